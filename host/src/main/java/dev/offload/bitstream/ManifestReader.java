package dev.offload.bitstream;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a manifest with a small JSON reader of its own. Manifests are read on every program load, and in a fresh
 * process the first use of databind's ObjectMapper costs about 350 ms of class loading and introspection (measured
 * on PoCL, 2 cores: a cached program took 420 ms to load, 380 of them reading its manifest), more than loading the
 * binary; Jackson's streaming parser still cost 65-130 ms of class loading. This reader uses only JDK classes. It
 * reads the JSON into maps and lists, which are then checked field by field. Unknown
 * fields are ignored and missing ones read as null (0 for numbers), as databind did. Writing stays with databind
 * ({@link BitstreamManifest#toJson}): it happens after a compile, which costs far more.
 */
final class ManifestReader {
    private ManifestReader() {}

    static BitstreamManifest read(String json) throws IOException {
        Json reader = new Json(json);
        Map<String, Object> m = object(reader.value(), "the manifest");
        reader.end();
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

    /** A reader of one JSON text: objects become maps, arrays lists, integers Long, other numbers Double. */
    private static final class Json {
        private final String s;
        private int i;

        Json(String s) { this.s = s; }

        Object value() throws IOException {
            skip();
            if (i >= s.length()) throw error("the text ends before the manifest does");
            char c = s.charAt(i);
            switch (c) {
                case '{' -> {
                    i++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    skip();
                    if (peek() == '}') { i++; return m; }
                    while (true) {
                        skip();
                        if (peek() != '"') throw error("expected a field name");
                        String name = string();
                        skip();
                        expect(':');
                        m.put(name, value());
                        skip();
                        if (peek() == ',') { i++; continue; }
                        expect('}');
                        return m;
                    }
                }
                case '[' -> {
                    i++;
                    List<Object> l = new ArrayList<>();
                    skip();
                    if (peek() == ']') { i++; return l; }
                    while (true) {
                        l.add(value());
                        skip();
                        if (peek() == ',') { i++; continue; }
                        expect(']');
                        return l;
                    }
                }
                case '"' -> { return string(); }
                default -> {
                    if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
                    if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
                    if (s.startsWith("null", i)) { i += 4; return null; }
                    return number();
                }
            }
        }

        void end() throws IOException {
            skip();
            if (i < s.length()) throw error("text after the manifest's closing brace");
        }

        private String string() throws IOException {
            i++; // opening quote
            StringBuilder b = new StringBuilder();
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') { b.append(c); continue; }
                if (i >= s.length()) break;
                char e = s.charAt(i++);
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) throw error("short \\u escape");
                        try {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        } catch (NumberFormatException x) {
                            throw error("bad \\u escape");
                        }
                        i += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
            }
            throw error("unterminated string");
        }

        private Object number() throws IOException {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            String t = s.substring(start, i);
            try {
                if (t.matches("-?\\d+")) return Long.parseLong(t);
                return Double.parseDouble(t);
            } catch (NumberFormatException x) {
                throw error("unexpected '" + (t.isEmpty() ? String.valueOf(s.charAt(start)) : t) + "'");
            }
        }

        private char peek() { return i < s.length() ? s.charAt(i) : '\0'; }

        private void expect(char c) throws IOException {
            if (peek() != c) throw error("expected '" + c + "'");
            i++;
        }

        private void skip() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }

        private IOException error(String what) {
            return new IOException(what + " at character " + i);
        }
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
