package dev.offload.bitstream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a manifest with Jackson's streaming parser. Manifests are read on every program load, and in a fresh
 * process the first use of databind's ObjectMapper costs about 350 ms of class loading and introspection (measured
 * on PoCL, 2 cores: a cached program took 420 ms to load, 380 of them reading its manifest) — more than loading
 * the binary. The parser reads the JSON into maps and lists, which are then checked field by field. Unknown
 * fields are ignored and missing ones read as null (0 for numbers), as databind did. Writing stays with databind
 * ({@link BitstreamManifest#toJson}): it happens after a compile, which costs far more.
 */
final class ManifestReader {
    private ManifestReader() {}

    private static final JsonFactory FACTORY = new JsonFactory();

    static BitstreamManifest read(String json) throws IOException {
        Map<String, Object> m;
        try (JsonParser p = FACTORY.createParser(json)) {
            m = object(value(p, p.nextToken()), "the manifest");
            if (p.nextToken() != null) throw new IOException("text after the manifest's closing brace");
        }
        Map<String, Object> t = object(m.get("target"), "target");
        Map<String, Object> b = object(m.get("binary"), "binary");
        DeviceTarget target = t == null ? null : new DeviceTarget(string(t, "platformName"), string(t, "platformVendor"),
                string(t, "deviceName"), string(t, "deviceVendor"), string(t, "driverVersion"), string(t, "deviceVersion"),
                string(t, "boardName"), string(t, "deviceStableId"));
        BitstreamManifest.BinaryFile binary = b == null ? null : new BitstreamManifest.BinaryFile(string(b, "file"),
                string(b, "sha256"), number(b, "sizeBytes"), string(b, "format"));
        List<BitstreamManifest.KernelEntry> kernels = null;
        List<Object> ks = list(m.get("kernels"), "kernels");
        if (ks != null) {
            kernels = new ArrayList<>();
            for (Object o : ks) {
                Map<String, Object> k = object(o, "kernels[]");
                List<BitstreamManifest.Arg> args = null;
                List<Object> as = list(k.get("args"), "kernels[].args");
                if (as != null) {
                    args = new ArrayList<>();
                    for (Object ao : as) {
                        Map<String, Object> a = object(ao, "kernels[].args[]");
                        args.add(new BitstreamManifest.Arg((int) number(a, "index"), string(a, "name"), string(a, "type"),
                                string(a, "addressSpace"), string(a, "signature")));
                    }
                }
                List<Long> wg = null;
                List<Object> ws = list(k.get("reqdWorkGroupSize"), "kernels[].reqdWorkGroupSize");
                if (ws != null) {
                    wg = new ArrayList<>();
                    for (Object w : ws) {
                        if (!(w instanceof Long l)) throw new IOException("reqdWorkGroupSize holds a non-integer: " + w);
                        wg.add(l);
                    }
                }
                kernels.add(new BitstreamManifest.KernelEntry(string(k, "name"), (int) number(k, "argCount"), args, wg));
            }
        }
        return new BitstreamManifest(string(m, "schema"), string(m, "family"), (int) number(m, "familyVersion"),
                string(m, "sourceSha256"), string(m, "options"), string(m, "optionsSha256"), string(m, "compilerOptions"),
                target, binary, kernels, string(m, "builtBy"), string(m, "builtAt"));
    }

    private static Object value(JsonParser p, JsonToken t) throws IOException {
        if (t == null) throw new IOException("the text ends before the manifest does");
        return switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                JsonToken f;
                while ((f = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    m.put(name, value(p, p.nextToken()));
                }
                if (f != JsonToken.END_OBJECT) throw new IOException("unexpected " + f + " in an object");
                yield m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                JsonToken x;
                while ((x = p.nextToken()) != JsonToken.END_ARRAY) l.add(value(p, x));
                yield l;
            }
            case VALUE_STRING -> p.getText();
            case VALUE_NUMBER_INT -> p.getLongValue();
            case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> null;
            default -> throw new IOException("unexpected " + t);
        };
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object o, String what) throws IOException {
        if (o == null) return null;
        if (o instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw new IOException(what + " is not a JSON object");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o, String what) throws IOException {
        if (o == null) return null;
        if (o instanceof List<?> l) return (List<Object>) l;
        throw new IOException(what + " is not a JSON array");
    }

    private static String string(Map<String, Object> m, String field) throws IOException {
        Object v = m.get(field);
        if (v == null || v instanceof String) return (String) v;
        throw new IOException("field '" + field + "' is not a string: " + v);
    }

    private static long number(Map<String, Object> m, String field) throws IOException {
        Object v = m.get(field);
        if (v == null) return 0;
        if (v instanceof Long l) return l;
        throw new IOException("field '" + field + "' is not an integer: " + v);
    }
}
