package dev.offload.model.gguf;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The key-value metadata of a GGUF file, in file order, with typed accessors. A key of the wrong type or a missing
 * required key is a {@link GgufFormatException} naming the file and the key.
 */
public final class GgufMetadata {
    private final Path file;
    private final Map<String, GgufValue> values;

    GgufMetadata(Path file, LinkedHashMap<String, GgufValue> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(values);
    }

    /** The file this metadata was read from (for messages). */
    public Path file() { return file; }

    public Set<String> keys() { return values.keySet(); }

    public boolean contains(String key) { return values.containsKey(key); }

    public Optional<GgufValue> get(String key) { return Optional.ofNullable(values.get(key)); }

    /** The map of all values, in file order. */
    public Map<String, GgufValue> asMap() { return values; }

    /** A problem with this file's metadata, as an exception to throw. */
    public GgufFormatException problem(String message) { return new GgufFormatException(file, message); }

    private GgufValue required(String key) {
        GgufValue v = values.get(key);
        if (v == null) throw problem("required metadata key '" + key + "' is missing");
        return v;
    }

    private GgufFormatException wrongType(String key, GgufValue v, String wanted) {
        String got = v instanceof GgufValue.Array a ? "array of " + a.elementType() : v.type().toString();
        return problem("metadata key '" + key + "' is " + got + ", expected " + wanted);
    }

    public String string(String key) {
        GgufValue v = required(key);
        if (v instanceof GgufValue.Str s) return s.value();
        throw wrongType(key, v, "STRING");
    }

    public Optional<String> optString(String key) {
        return values.containsKey(key) ? Optional.of(string(key)) : Optional.empty();
    }

    /** An integer value of any integer type that fits a long as a signed number. */
    public long integer(String key) {
        GgufValue v = required(key);
        if (v instanceof GgufValue.Int i) {
            if (i.type() == GgufValueType.UINT64 && i.value() < 0) {
                throw problem("metadata key '" + key + "' is " + Long.toUnsignedString(i.value()) + ", too large");
            }
            return i.value();
        }
        throw wrongType(key, v, "an integer");
    }

    public Optional<Long> optInteger(String key) {
        return values.containsKey(key) ? Optional.of(integer(key)) : Optional.empty();
    }

    public boolean bool(String key) {
        GgufValue v = required(key);
        if (v instanceof GgufValue.Bool b) return b.value();
        throw wrongType(key, v, "BOOL");
    }

    public Optional<Boolean> optBool(String key) {
        return values.containsKey(key) ? Optional.of(bool(key)) : Optional.empty();
    }

    /** A float32 or float64 value. */
    public double real(String key) {
        GgufValue v = required(key);
        if (v instanceof GgufValue.Float32 f) return f.value();
        if (v instanceof GgufValue.Float64 f) return f.value();
        throw wrongType(key, v, "FLOAT32 or FLOAT64");
    }

    private GgufValue.Array array(String key) {
        GgufValue v = required(key);
        if (v instanceof GgufValue.Array a) return a;
        throw wrongType(key, v, "an array");
    }

    public String[] stringArray(String key) {
        GgufValue.Array a = array(key);
        if (a.elements() instanceof String[] s) return s;
        throw wrongType(key, a, "array of STRING");
    }

    public float[] floatArray(String key) {
        GgufValue.Array a = array(key);
        if (a.elements() instanceof float[] f) return f;
        throw wrongType(key, a, "array of FLOAT32");
    }

    /** An array of any integer type whose values all fit an int. */
    public int[] intArray(String key) {
        GgufValue.Array a = array(key);
        if (!(a.elements() instanceof long[] l)) throw wrongType(key, a, "array of an integer type");
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            if (l[i] != (int) l[i]) throw problem("metadata key '" + key + "'[" + i + "] = " + l[i] + " does not fit an int32");
            out[i] = (int) l[i];
        }
        return out;
    }
}
