package dev.offload.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.ActivationQuantization;
import dev.offload.model.BlockQuantizedLinear;
import dev.offload.model.EncoderLayer;
import dev.offload.model.EncoderModel;
import dev.offload.model.EncoderReference;
import dev.offload.model.Linear;
import dev.offload.model.ModelCatalog;
import dev.offload.model.OrtEncoder;
import dev.offload.model.Pooling;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.TokenBatch;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.ModelProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.runtime.PlacementSpec;
import dev.offload.session.EncoderSource;
import dev.offload.session.GraphEncoder;
import dev.offload.testing.CpuDeviceFixture;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compress --method int4}: every int8 linear re-quantized to Q4_0 by ggml's rule, written as ONNX Runtime's
 * MatMulNBits, read back block for block, run by offload (java reference, java graph, OpenCL graph) and by ONNX
 * Runtime on the same file.
 */
class Int4CompressionTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();
    @TempDir static Path dir;
    static CompressedModelFile.Source source;
    static Compressor.Compressed compressed;
    static byte[] file;
    static TokenBatch batch;

    @BeforeAll
    static void load() {
        source = CompressedModelFile.Source.read(EncoderSource.known(ModelCatalog.ALL_MINILM_L6_V2_Q));
        compressed = Compressor.compress(source.model(), CompressionSpec.of(Method.INT4, 0));
        file = CompressedModelFile.bytes(source, compressed);
        var tok = EncoderSource.known(ModelCatalog.ALL_MINILM_L6_V2_Q).load().tokenizer();
        List<TokenBatch.Sequence> seqs = new ArrayList<>();
        for (String s : SentenceSet.builtIn().subList(390, 406)) seqs.add(tok.encode(s, 48));
        batch = TokenBatch.pad(seqs, tok.padId());
    }

    /**
     * ggml's quantize_row_q4_0_ref, written out here as the specification: per 32 values, m = the value of largest
     * magnitude (the first of them on a tie), d = m / -8, id = 1 / d (0 when d is 0), nibble = min(15, (int) (x id +
     * 8.5)); stored d is fp16(d); byte i = nibble i | nibble (i + 16) << 4.
     */
    static byte[] ggmlQ4_0(float[] row) {
        byte[] out = new byte[row.length / 32 * 18];
        for (int b = 0; b < row.length / 32; b++) {
            float amax = 0, max = 0;
            for (int i = 0; i < 32; i++) if (Math.abs(row[32 * b + i]) > amax) { amax = Math.abs(row[32 * b + i]); max = row[32 * b + i]; }
            float d = max / -8, id = d != 0 ? 1 / d : 0;
            short h = Float.floatToFloat16(d);
            out[18 * b] = (byte) h;
            out[18 * b + 1] = (byte) (h >> 8);
            for (int i = 0; i < 16; i++) {
                int lo = Math.min(15, (int) (row[32 * b + i] * id + 8.5f)), hi = Math.min(15, (int) (row[32 * b + 16 + i] * id + 8.5f));
                out[18 * b + 2 + i] = (byte) (lo | hi << 4);
            }
        }
        return out;
    }

    /** Output n's dequantized int8 weights along K: (w[k][n] - z[n]) * s[n]. */
    static float[] column(QuantizedLinear q, int n) {
        float[] c = new float[q.inputs()];
        for (int k = 0; k < q.inputs(); k++) c[k] = (float) (q.weight()[k * q.outputs() + n] - q.zeroPoint(n)) * q.scale()[n];
        return c;
    }

    static void requireGgmlBlocks(QuantizedLinear q, BlockQuantizedLinear b) {
        assertEquals(q.inputs(), b.inputs());
        assertEquals(q.outputs(), b.outputs());
        byte[] got = b.blockBytes();
        int rowBytes = q.inputs() / 32 * 18;
        for (int n = 0; n < q.outputs(); n++) {
            byte[] want = ggmlQ4_0(column(q, n));
            assertArrayEquals(want, java.util.Arrays.copyOfRange(got, n * rowBytes, (n + 1) * rowBytes), "output " + n);
        }
        assertArrayEquals(q.bias(), b.bias(), "the bias is kept");
    }

    @Test
    void everyLinearOfTheModelIsGgmlsQ4_0OfItsDequantizedInt8Weights() {
        for (int i = 0; i < source.model().layers().size(); i++) {
            List<Linear> was = CompressedModelFile.linears(source.model().layers().get(i)), now = CompressedModelFile.linears(compressed.model().layers().get(i));
            for (int j = 0; j < was.size(); j++) requireGgmlBlocks((QuantizedLinear) was.get(j), (BlockQuantizedLinear) now.get(j));
        }
    }

    @Test
    void awkwardWeightsZeroPointsAllZeroBlocksAndTiesFollowTheSameRule() {
        SplittableRandom rnd = new SplittableRandom(17);
        int k = 96, n = 7;
        byte[] w = new byte[k * n];
        rnd.nextBytes(w);
        for (int kk = 0; kk < 32; kk++) w[kk * n + 2] = 3;                // column 2, block 0: all equal to the zero point
        w[5 * n + 4] = 127; w[9 * n + 4] = -127;                          // column 4, block 0: a tie of +-127, the first wins
        for (int kk = 0; kk < 32; kk++) if (kk != 5 && kk != 9) w[kk * n + 4] = (byte) rnd.nextInt(-100, 100);
        float[] scale = new float[n], bias = new float[n];
        int[] zp = new int[n];
        for (int j = 0; j < n; j++) { scale[j] = (float) Math.pow(2, rnd.nextDouble(-12, -4)); bias[j] = (float) rnd.nextGaussian(); zp[j] = j == 2 ? 3 : rnd.nextInt(-4, 5); }
        zp[4] = 0;
        QuantizedLinear q = new QuantizedLinear(k, n, w, scale, zp, bias);
        BlockQuantizedLinear b = Int4Quantization.quantize(q);
        requireGgmlBlocks(q, b);
        byte[] blocks = b.blockBytes();
        int rowBytes = k / 32 * 18;
        float zero = Float.float16ToFloat((short) ((blocks[2 * rowBytes] & 0xFF) | blocks[2 * rowBytes + 1] << 8));
        assertEquals(0f, Math.abs(zero), "an all-zero block has d = 0 (ggml's 0 / -8 is -0)");
        for (int i = 0; i < 16; i++) assertEquals((byte) 0x88, blocks[2 * rowBytes + 2 + i], "and every nibble 8 (value 0)");
        // The tie: m = +127 s (element 5, first), so d < 0 and element 5 is nibble 0: -8 d = +127 s exactly.
        float d = Float.float16ToFloat((short) ((blocks[4 * rowBytes] & 0xFF) | blocks[4 * rowBytes + 1] << 8));
        assertTrue(d < 0, "d = m / -8 with m the first largest, +127 s");
        assertEquals(0, blocks[4 * rowBytes + 2 + 5] & 0xF);
    }

    @Test
    void theWrittenFileReadsBackBlockForBlockAsMatMulNBits() throws Exception {
        Path out = dir.resolve("int4.onnx");
        CompressedModelFile.write(source, file, out);
        EncoderSource.Loaded back = new EncoderSource.OnnxFile(out, null, Pooling.CLS).load();
        CompressedModelFile.requireSame(compressed.model(), back.model());
        var parsed = dev.offload.model.onnx.OnnxModel.parse(file, "int4.onnx");
        long nbits = parsed.nodes().stream().filter(x -> x.opType().equals("MatMulNBits")).count();
        long int8 = parsed.nodes().stream().filter(x -> x.opType().equals("MatMulInteger") || x.opType().equals("DynamicQuantizeLinear")).count();
        assertEquals(6L * source.model().layers().size(), nbits, "one MatMulNBits per linear");
        assertEquals(0, int8, "no int8 chain is left");
        assertEquals(ModelCatalog.ALL_MINILM_L6_V2_Q.pooling, back.pooling());
        System.out.printf(Locale.ROOT, "int4 file: %,d bytes (the int8 original: %,d); weight bytes as offload holds them %,d (int8: %,d)%n",
                file.length, source.onnx().length, WeightBytes.of(compressed.model(), null), WeightBytes.of(source.model(), null));
    }

    static float[] graph(EncoderModel model, String placement) {
        try (GraphEncoder g = new GraphEncoder(model, null, CL.pool(), PlacementSpec.parse(placement), true, false, System.err)) {
            return g.lastHiddenState(batch);
        }
    }

    /**
     * The java graph is the reference bit for bit (the same ops: per-block quantize, BlockLinearReference, the
     * stand-alone GELU), and so is OpenCL: blockq.cl's VNNI panel path sums each block exactly in int and adds
     * (float) s * (dx * d) to its row's float lane in block order, with no fused multiply-add, which is the
     * reference's own order (MiniLM's widths are whole panels of 16 rows; tail rows would sum per 4-value slice and
     * are only bounded, BlockLinearBound). Bit-exact matters here: one ulp in a linear's output can move the next
     * activation across an int8 rounding step, and through attention such a step reaches every token (measured with
     * the earlier fma path: 3,795 of 158,976 values identical, sentence cosine 0.99983).
     */
    @Test
    void javaReferenceJavaGraphAndOpenClAgreeBitForBit() {
        // The model as `run` loads it from the written file (its blocks in memory of its own).
        EncoderModel m = dev.offload.model.onnx.EncoderImporter.importBytes(file, "int4.onnx");
        int h = m.config().hidden();
        float[] reference = EncoderReference.forward(m, batch, ActivationQuantization.PER_SENTENCE);
        float[] java = graph(m, "java"), cl = graph(m, CL.device().spec());
        long[] ref = RealTokens.identical(batch, reference, java, h), dev = RealTokens.identical(batch, java, cl, h);
        double maxAbs = RealTokens.maxAbs(batch, java, cl, h), tokenCos = RealTokens.minTokenCosine(batch, java, cl, h);
        float[] ej = Pooling.MEAN.embed(java, batch, h), ec = Pooling.MEAN.embed(cl, batch, h);
        double sentenceCos = 1;
        for (int s = 0; s < batch.batch(); s++) {
            double dot = 0;
            for (int i = 0; i < h; i++) dot += (double) ej[s * h + i] * ec[s * h + i];
            sentenceCos = Math.min(sentenceCos, dot);
        }
        System.out.printf(Locale.ROOT, "int4: java graph vs reference %d of %d identical; OpenCL vs java %d of %d identical, max |diff| %.3g,"
                + " per-token cosine min %.7f, sentence cosine min %.7f%n", ref[0], ref[1], dev[0], dev[1], maxAbs, tokenCos, sentenceCos);
        assertEquals(ref[1], ref[0], "the java graph is the reference, bit for bit");
        assertEquals(dev[1], dev[0], "OpenCL is the java graph, bit for bit (per-token cosine min " + tokenCos + ", sentence " + sentenceCos + ")");
    }

    @Test
    void onnxRuntimeOnTheFileAgreesWithOffloadWithinTheStatedBound() throws Exception {
        EncoderModel m = compressed.model();
        int h = m.config().hidden();
        float[] reference = EncoderReference.forward(m, batch, ActivationQuantization.PER_SENTENCE);
        float[] ours = Pooling.MEAN.embed(reference, batch, h);
        double minCos = 1, maxAbs = 0;
        try (OrtEncoder ort = new OrtEncoder(file)) {
            for (int s = 0; s < batch.batch(); s++) {
                TokenBatch one = batch.row(s);
                float[] theirs = Pooling.MEAN.embed(ort.lastHiddenState(one), one, h);
                double dot = 0;
                for (int i = 0; i < h; i++) {
                    dot += (double) theirs[i] * ours[s * h + i];
                    maxAbs = Math.max(maxAbs, Math.abs(theirs[i] - ours[s * h + i]));
                }
                minCos = Math.min(minCos, dot);
            }
        }
        System.out.printf(Locale.ROOT, "int4: ONNX Runtime on the file vs offload's reference: sentence cosine min %.6f, max |diff| %.3g%n", minCos, maxAbs);
        assertTrue(minCos >= 0.999, "sentence cosine to ONNX Runtime " + minCos);
    }

    /** The file with its first MatMulNBits node changed by {@code edit}. */
    static byte[] withFirstNBits(java.util.function.UnaryOperator<NodeProto.Builder> edit) throws Exception {
        ModelProto m = ModelProto.parseFrom(file);
        GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getOpType().equals("MatMulNBits")) {
                g.setNode(i, edit.apply(g.getNode(i).toBuilder()).build());
                break;
            }
        }
        return m.toBuilder().setGraph(g).build().toByteArray();
    }

    static NodeProto.Builder attr(NodeProto.Builder n, String name, long v) {
        for (int i = 0; i < n.getAttributeCount(); i++) {
            if (n.getAttribute(i).getName().equals(name)) return n.setAttribute(i, n.getAttribute(i).toBuilder().setI(v));
        }
        throw new IllegalArgumentException(name);
    }

    static void refused(String why, byte[] bytes) {
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.offload.model.UnsupportedModelException.class,
                () -> dev.offload.model.onnx.EncoderImporter.importBytes(bytes, "bad-int4.onnx"));
        String msg = e.getMessage();
        System.out.println("refused: " + msg);
        assertTrue(msg.startsWith("bad-int4.onnx: "), "names the file: " + msg);
        assertTrue(msg.contains("MatMulNBits node '"), "names the node: " + msg);
        assertTrue(msg.contains(why), "says why (" + why + "): " + msg);
        assertEquals(-1, msg.indexOf('\n'), "one line: " + msg);
    }

    @Test
    void matMulNBitsFormsOffloadDoesNotComputeExactlyAreRefusedNamingTheFileAndTheNode() throws Exception {
        refused("bits 8 is not supported", withFirstNBits(n -> attr(n, "bits", 8)));
        refused("block_size 64 is not supported", withFirstNBits(n -> attr(n, "block_size", 64)));
        refused("K 100 is not a multiple of 32", withFirstNBits(n -> attr(n, "K", 100)));
        refused("A's last axis is not K = 416", withFirstNBits(n -> attr(n, "K", 416)));
        refused("zero_points given", withFirstNBits(n -> n.setInput(3, n.getInput(2))));
        refused("g_idx given", withFirstNBits(n -> n.setInput(4, n.getInput(2))));
        // A scale that is not an fp16 value: the first block's scale nudged by one float ulp.
        ModelProto m = ModelProto.parseFrom(file);
        GraphProto.Builder g = m.getGraph().toBuilder();
        String scales = g.getNodeList().stream().filter(x -> x.getOpType().equals("MatMulNBits")).findFirst().orElseThrow().getInput(2);
        for (int i = 0; i < g.getInitializerCount(); i++) {
            if (!g.getInitializer(i).getName().equals(scales)) continue;
            byte[] raw = g.getInitializer(i).getRawData().toByteArray();
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putFloat(0, Math.nextUp(b.getFloat(0)));
            g.setInitializer(i, g.getInitializer(i).toBuilder().setRawData(com.google.protobuf.ByteString.copyFrom(raw)));
        }
        refused("is not an fp16 value", m.toBuilder().setGraph(g).build().toByteArray());
    }

    @Test
    void aBiasAddAfterMatMulNBitsReadsAsItsBiasInputDoes() throws Exception {
        // Every MatMulNBits's bias moved from its input 5 into an Add after it (the form other exporters write).
        ModelProto m = ModelProto.parseFrom(file);
        GraphProto.Builder g = m.getGraph().toBuilder();
        java.util.List<NodeProto> nodes = new ArrayList<>();
        for (NodeProto n : g.getNodeList()) {
            if (!n.getOpType().equals("MatMulNBits")) { nodes.add(n); continue; }
            String out = n.getOutput(0), product = out + "_no_bias";
            nodes.add(n.toBuilder().clearInput().addAllInput(n.getInputList().subList(0, 3)).setOutput(0, product).build());
            nodes.add(NodeProto.newBuilder().setName(n.getName() + "_bias").setOpType("Add").addInput(product).addInput(n.getInput(5)).addOutput(out).build());
        }
        byte[] moved = m.toBuilder().setGraph(g.clearNode().addAllNode(nodes)).build().toByteArray();
        CompressedModelFile.requireSame(compressed.model(), dev.offload.model.onnx.EncoderImporter.importBytes(moved, "bias-add.onnx"));
    }
}
