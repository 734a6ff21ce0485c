package dev.offload.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.ActivationQuantization;
import dev.offload.model.EncoderGraph;
import dev.offload.model.EncoderModel;
import dev.offload.model.EncoderReference;
import dev.offload.model.ModelCatalog;
import dev.offload.model.OrtEncoder;
import dev.offload.model.TokenBatch;
import dev.offload.model.onnx.OnnxModel;
import dev.offload.runtime.PlacementSpec;
import dev.offload.session.EncoderSource;
import dev.offload.session.GraphEncoder;
import dev.offload.testing.CpuDeviceFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each method's file, written and loaded back as {@code run} loads it: the reloaded model equals the in-memory one
 * weight for weight and runs to the same bits; the OpenCL run (PoCL, every node on the device) and the java run agree
 * bit for bit; and ONNX Runtime, running the same file (the pruned zeros densely), agrees with offload's reference
 * on it within EncoderAccuracyTest's bounds (measured: identical values), bit for bit for the structured methods
 * (FFN neurons, heads: a narrower dense graph) and the factorized file (two int8 products in a row).
 */
class CompressedModelFileTest {
    /**
     * The structured methods leave a smaller dense graph of the ops offload's reference rounds as ONNX Runtime does:
     * there the two must agree bit for bit on every real token (as the unpruned model does).
     */
    static final Set<Method> ORT_EXACT = EnumSet.of(Method.FFN_NEURONS, Method.HEADS, Method.LOW_RANK);

    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();
    @TempDir static Path dir;
    static CompressedModelFile.Source source;
    static TokenBatch batch;
    static Calibration calibration;

    @BeforeAll
    static void load() {
        source = CompressedModelFile.Source.read(EncoderSource.known(ModelCatalog.ALL_MINILM_L6_V2_Q));
        var tok = EncoderSource.known(ModelCatalog.ALL_MINILM_L6_V2_Q).load().tokenizer();
        List<TokenBatch.Sequence> seqs = new ArrayList<>();
        for (String s : SentenceSet.builtIn().subList(395, 405)) seqs.add(tok.encode(s, 48));
        batch = TokenBatch.pad(seqs, tok.padId());
        calibration = Calibration.builtIn(tok);
    }

    static float[] graph(EncoderModel model, EncoderGraph.Prune prune, String placement) {
        try (GraphEncoder g = new GraphEncoder(model, prune, CL.pool(), PlacementSpec.parse(placement), true, false, System.err)) {
            return g.lastHiddenState(batch);
        }
    }

    /** Values of real tokens that are bit-identical, of all. */
    static long[] identical(float[] a, float[] b, int h) { return RealTokens.identical(batch, a, b, h); }

    /** Runs every check on {@code spec}'s file; returns its bytes. */
    static byte[] check(CompressionSpec spec) throws Exception {
        Compressor.Compressed c = Compressor.compress(source.model(), spec, calibration);
        byte[] bytes = CompressedModelFile.bytes(source, c);
        Path file = dir.resolve(spec.toString().replaceAll("[^A-Za-z0-9.]+", "-") + ".onnx");
        CompressedModelFile.write(source, bytes, file);
        assertTrue(Files.isRegularFile(file.resolveSibling("tokenizer.json")));

        EncoderSource.Loaded back = new EncoderSource.OnnxFile(file, null, dev.offload.model.Pooling.CLS).load();
        CompressedModelFile.requireSame(c.model(), back.model());
        assertEquals(ModelCatalog.ALL_MINILM_L6_V2_Q.pooling, back.pooling(), "the file's pooling wins over the caller's guess");
        EncoderGraph.Prune prune = spec.format() == null ? null : EncoderGraph.Prune.asStored(spec.format());
        assertEquals(prune, back.stored());

        int h = c.model().config().hidden();
        float[] inMemory = graph(c.model(), prune, "java");
        float[] java = graph(back.model(), back.stored(), "java");
        float[] cl = graph(back.model(), back.stored(), CL.device().spec());
        long[] reload = identical(inMemory, java, h), device = identical(java, cl, h);
        System.out.printf("%s: reloaded vs in-memory %d of %d identical; OpenCL vs java %d of %d identical%n", spec, reload[0], reload[1], device[0], device[1]);
        assertEquals(reload[1], reload[0], spec + ": the reloaded file runs differently from the in-memory model");
        assertEquals(device[1], device[0], spec + ": OpenCL and java differ");

        // ONNX Runtime on the written file judges offload's reference on the same weights (dense zeros).
        float[] reference = EncoderReference.forward(back.model(), batch, ActivationQuantization.PER_SENTENCE);
        if (prune == null) {
            long[] ref = identical(reference, java, h);
            assertEquals(ref[1], ref[0], spec + ": the graph differs from the java reference");
        }
        try (OrtEncoder ort = new OrtEncoder(bytes)) {
            double minCos = 1;
            long same = 0, all = 0;
            for (int s = 0; s < batch.batch(); s++) {
                TokenBatch one = batch.row(s);
                float[] want = ort.lastHiddenState(one);
                for (int t = 0; t < batch.realTokens(s); t++) {
                    double dot = 0, na = 0, nb = 0;
                    for (int i = 0; i < h; i++) {
                        float x = want[t * h + i], y = reference[(s * batch.length() + t) * h + i];
                        dot += x * y; na += x * x; nb += y * y;
                        all++;
                        if (Float.floatToIntBits(x) == Float.floatToIntBits(y)) same++;
                    }
                    minCos = Math.min(minCos, dot / Math.sqrt(na * nb));
                }
            }
            System.out.printf("%s: ONNX Runtime on the file vs offload's reference: %d of %d values identical, per-token cosine min %.7f%n", spec, same, all, minCos);
            assertTrue(minCos >= 0.9999, spec + ": per-token cosine to ONNX Runtime " + minCos);
            if (ORT_EXACT.contains(spec.method())) assertEquals(all, same, spec + ": ONNX Runtime and offload's reference differ on real tokens");
        }
        return bytes;
    }

    static long count(OnnxModel m, String op) { return m.nodes().stream().filter(n -> n.opType().equals(op)).count(); }

    @Test void magnitude() throws Exception { check(CompressionSpec.of(Method.MAGNITUDE, 0.5)); }

    @Test void twoFour() throws Exception { check(CompressionSpec.of(Method.TWO_FOUR, 0.5)); }

    @Test void block() throws Exception { check(new CompressionSpec(Method.BLOCK, 0.5, 4, 16)); }

    @Test void ffnNeurons() throws Exception { check(CompressionSpec.of(Method.FFN_NEURONS, 0.5)); }

    @Test void headsByActivation() throws Exception { check(CompressionSpec.of(Method.HEADS, 0.25)); }

    @Test void headsByMagnitude() throws Exception { check(new CompressionSpec(Method.HEADS, 0.5, 0, 0, HeadImportance.MAGNITUDE)); }

    /**
     * 0.9 of the energy: 35 of MiniLM's 36 linears become two int8 linears, one stays dense. The file has one more
     * DynamicQuantizeLinear and MatMulInteger per factorized linear, and no initializer that no node reads (the
     * replaced weights, scales and zero points are gone).
     */
    @Test void lowRank() throws Exception {
        byte[] bytes = check(CompressionSpec.of(Method.LOW_RANK, 0.9));
        int factorized = Compressor.compress(source.model(), CompressionSpec.of(Method.LOW_RANK, 0.9)).replaced().size();
        assertEquals(35, factorized);
        OnnxModel was = source.parsed(), now = OnnxModel.parse(bytes, "the low-rank file");
        assertEquals(count(was, "MatMulInteger") + factorized, count(now, "MatMulInteger"));
        assertEquals(count(was, "DynamicQuantizeLinear") + factorized, count(now, "DynamicQuantizeLinear"));
        assertEquals(count(was, "Cast") + factorized, count(now, "Cast"));
        java.util.Set<String> read = new java.util.HashSet<>();
        for (var n : now.nodes()) read.addAll(n.inputs());
        dev.offload.model.onnx.proto.OnnxProtos.ModelProto proto = dev.offload.model.onnx.proto.OnnxProtos.ModelProto.parseFrom(bytes);
        for (var t : proto.getGraph().getInitializerList()) assertTrue(read.contains(t.getName()), "initializer " + t.getName() + " is read by no node");
    }
}
