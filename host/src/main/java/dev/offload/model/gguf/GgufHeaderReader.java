package dev.offload.model.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;

/**
 * Reads the GGUF header (magic, version, counts), the metadata and the tensor infos from a mapped file, checking
 * every length against the bytes left before anything is allocated, so a hostile file fails with a one-line
 * {@link GgufFormatException} and never with an OutOfMemoryError or an arithmetic overflow.
 */
final class GgufHeaderReader {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** "GGUF" read as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    /** The deepest array nesting accepted: ggml writes none deeper than 2; the bound keeps recursion finite. */
    private static final int MAX_ARRAY_DEPTH = 8;
    /** Java arrays hold at most about this many elements. */
    private static final long MAX_JAVA_ARRAY = Integer.MAX_VALUE - 8;

    private final Path file;
    private final MemorySegment bytes;
    private final long size;
    private long pos;

    GgufHeaderReader(Path file, MemorySegment bytes) {
        this.file = file;
        this.bytes = bytes;
        this.size = bytes.byteSize();
    }

    /** What the header says, up to (not including) the data section. */
    record Header(int version, GgufMetadata metadata, GgufTensorInfo[] tensors, long endOfInfos) {}

    Header read() {
        need(4, "the magic");
        int magic = bytes.get(U32, pos);
        if (magic != MAGIC) {
            throw problem(String.format("not a GGUF file (magic 0x%08x, expected 'GGUF')", magic));
        }
        pos += 4;
        int version = (int) u32("the version");
        if (version == 1) throw problem("GGUF version 1 is not supported (only 2 and 3)");
        if (version != 2 && version != 3) {
            throw problem("GGUF version " + Integer.toUnsignedString(version) + " is not supported (only 2 and 3)"
                    + ((version & 0xFFFF) == 0 ? "; the file may be big-endian" : ""));
        }
        long tensorCount = u64("the tensor count");
        long kvCount = u64("the metadata count");
        // Each key-value pair takes at least 13 bytes (key length, type, one byte of value); each tensor info 24.
        bounded(kvCount, 13, "metadata count");
        bounded(tensorCount, 24, "tensor count");

        LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = string("metadata key " + i);
            GgufValueType type = valueType(u32("the type of metadata key '" + key + "'"), "metadata key '" + key + "'");
            GgufValue value = value(type, "metadata key '" + key + "'", 0);
            if (kv.putIfAbsent(key, value) != null) throw problem("duplicate metadata key '" + key + "'");
        }
        GgufMetadata metadata = new GgufMetadata(file, kv);

        GgufTensorInfo[] infos = new GgufTensorInfo[(int) tensorCount];
        HashSet<String> names = new HashSet<>();
        for (int i = 0; i < infos.length; i++) {
            infos[i] = tensorInfo(i);
            if (!names.add(infos[i].name())) throw problem("duplicate tensor name '" + infos[i].name() + "'");
        }
        return new Header(version, metadata, infos, pos);
    }

    private GgufTensorInfo tensorInfo(int index) {
        String name = string("the name of tensor " + index);
        long nDims = u32("the dimension count of tensor '" + name + "'");
        if (nDims > 4) throw problem("tensor '" + name + "' has " + nDims + " dimensions (at most 4)");
        long[] shape = new long[(int) nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            shape[d] = u64("dimension " + d + " of tensor '" + name + "'");
            if (shape[d] < 0) {
                throw problem("tensor '" + name + "' dimension " + d + " is " + Long.toUnsignedString(shape[d]) + ", too large");
            }
            elements = checkedMultiply(elements, shape[d], "the element count of tensor '" + name + "'");
        }
        GgmlType type = GgmlType.of(u32("the type of tensor '" + name + "'"), file, name);
        long offset = u64("the offset of tensor '" + name + "'");
        long rowLength = nDims == 0 ? 1 : shape[0];
        if (rowLength % type.blockSize() != 0) {
            throw problem("tensor '" + name + "' of type " + type + " has rows of " + rowLength
                    + " elements, not a multiple of the block size " + type.blockSize());
        }
        long byteSize = checkedMultiply(elements / type.blockSize(), type.blockBytes(), "the byte size of tensor '" + name + "'");
        if (offset < 0) throw problem("tensor '" + name + "' offset " + Long.toUnsignedString(offset) + " is past the end of the file");
        return new GgufTensorInfo(name, shape, type, offset, byteSize);
    }

    private GgufValue value(GgufValueType type, String what, int depth) {
        return switch (type) {
            case UINT8 -> new GgufValue.Int(type, Byte.toUnsignedLong(i8(what)));
            case INT8 -> new GgufValue.Int(type, i8(what));
            case UINT16 -> new GgufValue.Int(type, Short.toUnsignedLong(i16(what)));
            case INT16 -> new GgufValue.Int(type, i16(what));
            case UINT32 -> new GgufValue.Int(type, u32(what));
            case INT32 -> new GgufValue.Int(type, (int) u32(what));
            case UINT64, INT64 -> new GgufValue.Int(type, u64(what));
            case FLOAT32 -> { need(4, what); float f = bytes.get(F32, pos); pos += 4; yield new GgufValue.Float32(f); }
            case FLOAT64 -> { need(8, what); double f = bytes.get(F64, pos); pos += 8; yield new GgufValue.Float64(f); }
            case BOOL -> new GgufValue.Bool(bool(what));
            case STRING -> new GgufValue.Str(string(what));
            case ARRAY -> array(what, depth);
        };
    }

    private GgufValue.Array array(String what, int depth) {
        if (depth >= MAX_ARRAY_DEPTH) throw problem(what + ": arrays nested deeper than " + MAX_ARRAY_DEPTH);
        GgufValueType elementType = valueType(u32("the element type of " + what), what);
        long count = u64("the length of " + what);
        // Bound the count by the bytes left before allocating: each element takes at least minBytes.
        if (count < 0 || count > MAX_JAVA_ARRAY || count > (size - pos) / elementType.minBytes()) {
            throw problem(what + ": array of " + Long.toUnsignedString(count) + " " + elementType
                    + " values does not fit in the " + (size - pos) + " bytes left");
        }
        int n = (int) count;
        Object elements = switch (elementType) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) a[i] = ((GgufValue.Int) value(elementType, what, depth)).value();
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) a[i] = ((GgufValue.Float32) value(elementType, what, depth)).value();
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) a[i] = ((GgufValue.Float64) value(elementType, what, depth)).value();
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) a[i] = bool(what);
                yield a;
            }
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) a[i] = string(what + "[" + i + "]");
                yield a;
            }
            case ARRAY -> {
                GgufValue.Array[] a = new GgufValue.Array[n];
                for (int i = 0; i < n; i++) a[i] = array(what + "[" + i + "]", depth + 1);
                yield a;
            }
        };
        return new GgufValue.Array(elementType, elements);
    }

    private GgufValueType valueType(long id, String what) {
        GgufValueType t = GgufValueType.ofId(id);
        if (t == null) throw problem(what + " has unknown value type " + id);
        return t;
    }

    private String string(String what) {
        long length = u64("the length of " + what);
        if (length < 0 || length > size - pos || length > MAX_JAVA_ARRAY) {
            throw problem(what + ": string of " + Long.toUnsignedString(length) + " bytes does not fit in the "
                    + (size - pos) + " bytes left");
        }
        byte[] b = bytes.asSlice(pos, length).toArray(ValueLayout.JAVA_BYTE);
        pos += length;
        return new String(b, StandardCharsets.UTF_8);
    }

    private boolean bool(String what) {
        byte b = i8(what);
        if (b != 0 && b != 1) throw problem(what + ": boolean byte " + Byte.toUnsignedInt(b) + " (only 0 or 1)");
        return b == 1;
    }

    private byte i8(String what) {
        need(1, what);
        return bytes.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private short i16(String what) {
        need(2, what);
        short v = bytes.get(U16, pos);
        pos += 2;
        return v;
    }

    private long u32(String what) {
        need(4, what);
        long v = Integer.toUnsignedLong(bytes.get(U32, pos));
        pos += 4;
        return v;
    }

    private long u64(String what) {
        need(8, what);
        long v = bytes.get(U64, pos);
        pos += 8;
        return v;
    }

    private void need(long n, String what) {
        if (size - pos < n) throw problem("truncated: the file ends at byte " + size + " while reading " + what);
    }

    private void bounded(long count, long minBytes, String what) {
        if (count < 0 || count > (size - pos) / minBytes) {
            throw problem(what + " " + Long.toUnsignedString(count) + " cannot fit in the " + (size - pos) + " bytes left");
        }
    }

    private long checkedMultiply(long a, long b, String what) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw problem(what + " overflows 64 bits");
        }
    }

    private GgufFormatException problem(String message) { return new GgufFormatException(file, message); }
}
