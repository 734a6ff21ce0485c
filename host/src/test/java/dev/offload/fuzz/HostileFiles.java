package dev.offload.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.model.onnx.proto.OnnxProtos;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * Seeded generators of hostile files for the fuzz tier: each takes a valid file of its format and returns variants
 * damaged the ways real files are (truncated, bytes flipped) and the ways a hostile one is (length and count fields
 * set to 0, -1, 2^31, 2^63, paths that climb out, types that do not fit), so that every parser's bounds and every
 * size check is reached. Byte-level damage is biased towards headers, where the lengths are.
 */
final class HostileFiles {
    private final Random r;

    HostileFiles(long seed) { this.r = new Random(seed); }

    private static final long[] INTERESTING = {0, 1, 2, 7, -1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL,
            1L << 32, 1L << 40, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE};

    long interesting() { return r.nextInt(4) == 0 ? r.nextLong() : INTERESTING[r.nextInt(INTERESTING.length)]; }

    /** Truncated, or a few bytes flipped (mostly in the first {@code head} bytes), or a field overwritten. */
    byte[] damage(byte[] valid, int head) {
        switch (r.nextInt(4)) {
            case 0 -> {
                return Arrays.copyOf(valid, r.nextInt(valid.length));
            }
            case 1, 2 -> {
                byte[] b = valid.clone();
                for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
                    int at = r.nextInt(3) > 0 ? r.nextInt(Math.min(head, b.length)) : r.nextInt(b.length);
                    b[at] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            }
            default -> {
                return overwrite(valid, r.nextInt(Math.max(1, Math.min(head, valid.length) - 8)), r.nextBoolean() ? 4 : 8);
            }
        }
    }

    /** {@code valid} with a little-endian field of {@code width} bytes at {@code at} set to an interesting value. */
    byte[] overwrite(byte[] valid, int at, int width) {
        byte[] b = valid.clone();
        if (at + width > b.length) return Arrays.copyOf(b, at);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (width == 4) bb.putInt(at, (int) interesting()); else bb.putLong(at, interesting());
        return b;
    }

    // ---- .npy -----------------------------------------------------------------------------------------------

    private static final String[] DESCRS = {"|i1", "|u1", "<i4", "<f4", ">f4", "<f2", "<i8", "|b1", "O", "|S5", "<U3", "<c8", "", "'"};
    private static final String[] DIMS = {"0", "1", "3", "-1", "2147483648", "4294967296", "4611686018427387904",
            "9223372036854775807", "99999999999999999999", "abc", "1e3", "3L", " "};

    /** A .npy with a made-up header: any descr, fortran order, shape and version, and a few data bytes. */
    byte[] npyHeader() {
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0, n = r.nextInt(6); i < n; i++) shape.append(DIMS[r.nextInt(DIMS.length)]).append(", ");
        String dict = "{'descr': '" + DESCRS[r.nextInt(DESCRS.length)] + "', 'fortran_order': "
                + (r.nextInt(5) == 0 ? "True" : r.nextInt(8) == 0 ? "maybe" : "False") + ", 'shape': " + shape + "), }";
        if (r.nextInt(10) == 0) dict = dict.substring(0, r.nextInt(dict.length()));
        byte[] h = dict.getBytes(StandardCharsets.ISO_8859_1);
        int version = r.nextInt(6) == 0 ? r.nextInt(5) : 1 + r.nextInt(3);
        int prefix = version == 1 ? 10 : 12;
        int data = r.nextInt(64);
        ByteBuffer b = ByteBuffer.allocate(prefix + h.length + 1 + data).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
        long len = r.nextInt(5) == 0 ? interesting() : h.length + 1;
        if (prefix == 10) b.putShort((short) len); else b.putInt((int) len);
        b.put(h).put((byte) '\n');
        return b.array();
    }

    // ---- .onnx ----------------------------------------------------------------------------------------------

    /** A small ONNX graph whose initializers, nodes and types are drawn at random (a few of them impossible). */
    byte[] onnx() {
        OnnxProtos.GraphProto.Builder g = OnnxProtos.GraphProto.newBuilder().setName("fuzz");
        for (int i = 0, n = r.nextInt(4); i < n; i++) {
            OnnxProtos.TensorProto.Builder t = OnnxProtos.TensorProto.newBuilder().setName("w" + i)
                    .setDataType(r.nextInt(4) == 0 ? r.nextInt(20) : new int[] {1, 2, 3, 6, 7}[r.nextInt(5)]);
            for (int d = 0, rank = r.nextInt(4); d < rank; d++) t.addDims(r.nextInt(3) == 0 ? interesting() : 1 + r.nextInt(4));
            if (r.nextBoolean()) {
                byte[] raw = new byte[r.nextInt(64)];
                r.nextBytes(raw);
                t.setRawData(com.google.protobuf.ByteString.copyFrom(raw));
            } else {
                for (int v = 0, count = r.nextInt(16); v < count; v++) t.addFloatData(r.nextFloat());
            }
            if (r.nextInt(8) == 0) t.setDataLocation(OnnxProtos.TensorProto.DataLocation.EXTERNAL);
            g.addInitializer(t);
        }
        String[] ops = {"Gather", "MatMul", "Add", "LayerNormalization", "Softmax", "Constant", "Erf", "Unknown", ""};
        for (int i = 0, n = r.nextInt(6); i < n; i++) {
            g.addNode(OnnxProtos.NodeProto.newBuilder().setOpType(ops[r.nextInt(ops.length)]).setName("n" + i)
                    .addInput(r.nextBoolean() ? "input_ids" : "w" + r.nextInt(3)).addOutput("t" + i));
        }
        g.addInput(OnnxProtos.ValueInfoProto.newBuilder().setName("input_ids"));
        OnnxProtos.ModelProto.Builder m = OnnxProtos.ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OnnxProtos.OperatorSetIdProto.newBuilder().setVersion(r.nextInt(20)));
        if (r.nextInt(10) > 0) m.setGraph(g);
        byte[] bytes = m.build().toByteArray();
        return r.nextInt(3) == 0 && bytes.length > 0 ? damage(bytes, bytes.length) : bytes;
    }

    // ---- bitstream manifests --------------------------------------------------------------------------------

    private static final String[] PATHS = {"/etc/passwd", "../../../../etc/shadow", "sub/x.bin", "", ".", "..", "x\u0000.bin",
            "\\..\\x", "a".repeat(300), "%2e%2e/x", "~/x", "smoke.json"};

    /** The manifest's JSON with one field removed, retyped or set to a hostile value, or its text damaged. */
    String manifest(String validJson) {
        ObjectMapper json = new ObjectMapper();
        try {
            if (r.nextInt(6) == 0) {
                byte[] b = damage(validJson.getBytes(StandardCharsets.UTF_8), validJson.length());
                return new String(b, StandardCharsets.ISO_8859_1);
            }
            if (r.nextInt(12) == 0) return "[".repeat(5000) + "]".repeat(5000);
            ObjectNode root = (ObjectNode) json.readTree(validJson);
            for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) mutate(root);
            return json.writeValueAsString(root);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void mutate(ObjectNode root) {
        List<ObjectNode> objects = new ArrayList<>();
        collect(root, objects);
        ObjectNode o = objects.get(r.nextInt(objects.size()));
        List<String> fields = new ArrayList<>();
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) fields.add(it.next());
        if (fields.isEmpty()) return;
        String f = fields.get(r.nextInt(fields.size()));
        JsonNodeFactory n = JsonNodeFactory.instance;
        switch (r.nextInt(7)) {
            case 0 -> o.remove(f);
            case 1 -> o.put(f, interesting());
            case 2 -> o.put(f, PATHS[r.nextInt(PATHS.length)]);
            case 3 -> o.set(f, n.nullNode());
            case 4 -> o.set(f, n.arrayNode().add(1).add("x"));
            case 5 -> o.put(f, r.nextBoolean());
            default -> {
                if (o.has("file")) o.put("file", PATHS[r.nextInt(PATHS.length)]);
                else if (o.has("sizeBytes")) o.put("sizeBytes", interesting());
                else o.put(f, -r.nextInt(1000));
            }
        }
    }

    private static void collect(JsonNode node, List<ObjectNode> into) {
        if (node instanceof ObjectNode o) into.add(o);
        if (node instanceof ObjectNode || node instanceof ArrayNode) node.forEach(c -> collect(c, into));
    }

    // ---- PoCL program binaries ------------------------------------------------------------------------------

    /**
     * A PoCL binary damaged in its structure only: truncated, or a field of its header, of a file record's lengths or
     * of a kernel record's sizes overwritten. Compiled code is left alone: no check short of the driver can vouch for
     * machine code, which the manifest's checksum protects.
     */
    byte[] poclStructure(byte[] valid, List<Integer> fieldOffsets) {
        if (r.nextInt(3) == 0) return Arrays.copyOf(valid, r.nextInt(valid.length));
        int at = fieldOffsets.get(r.nextInt(fieldOffsets.size()));
        return overwrite(valid, at, at == 85 || r.nextBoolean() ? 4 : 8);
    }

    int nextInt(int bound) { return r.nextInt(bound); }
}
