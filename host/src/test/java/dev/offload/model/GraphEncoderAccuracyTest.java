package dev.offload.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.model.onnx.EncoderImporter;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import dev.offload.profile.OpSample;
import dev.offload.runtime.DevicePool;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The encoder graph on OpenCL (PoCL, every op on the device) against the Java reference encoder on the same token
 * ids, and against ONNX Runtime.
 *
 * <p>Against the reference the semantics are the same (per-sentence uint8 ranges, masked keys); only float
 * rounding differs: LayerNorm, attention and GELU sum and round in another order, and the graph's GELU uses offload's
 * float erf (about 1 ulp from the true erf, the same bits in the kernels and the graph's Java run) where the
 * reference takes the double erf rounded once (the int8 parts are exact given the same inputs: bit-exact quantize and
 * integer GEMM). Most sentences therefore agree to float noise (per-token cosine >= 0.9999, sentence >= 0.99999;
 * measured 1e-6 to 1e-9). But where a value sits within float noise of a uint8 rounding boundary, the two sides round
 * it differently; one quantum times a weight row then cascades through the later layers exactly as
 * EncoderAccuracyTest describes for ONNX Runtime. Measured on these 8 sentences (S = 22): all-MiniLM-L6-v2-q 7 of 8
 * sentences within float noise, the longest at per-token 0.99425 / sentence 0.99770; bge-small-en-v15-q (12 layers,
 * more chances) 5 of 8, worst per-token 0.99438 / sentence 0.99843. The graph's own java run shows the same flips
 * against EncoderReference: the flips come from the reference's float LayerNorm/GELU versus the graph's, not from the
 * kernels. So the bounds are: at least half the sentences within float noise, and every sentence above the flip
 * floors below. Removing the flips entirely would need bit-identical float LayerNorm, GELU and softmax on both sides.
 * Against ONNX Runtime the bounds are EncoderAccuracyTest's (see its comment): the reference meets them, and the
 * OpenCL run is within float noise of the reference.
 */
class GraphEncoderAccuracyTest {
    static final double TOKEN_BOUND = 0.9999, SENTENCE_BOUND = 0.99999;
    /** Where a uint8 rounding flip cascaded (see the class comment): what the sentence still keeps. */
    static final double FLIP_TOKEN_FLOOR = 0.99, FLIP_SENTENCE_FLOOR = 0.995;
    static OpenClDevice device;
    static DevicePool pool;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        pool = DevicePool.of(device);
    }

    @AfterAll
    static void close() { device.close(); }

    static void check(ModelCatalog m) throws Exception {
        byte[] onnx = m.onnxBytes();
        EncoderModel model = EncoderImporter.importBytes(onnx, m.onnxEntry);
        WordPieceTokenizer tok = WordPieceTokenizer.fromJson(m.tokenizerBytes(), m.tokenizerEntry);
        List<TokenBatch.Sequence> seqs = new ArrayList<>();
        for (String s : EncoderAccuracyTest.SENTENCES.subList(0, 8)) seqs.add(tok.encode(s, 32));
        TokenBatch batch = TokenBatch.pad(seqs, tok.padId());
        int h = model.config().hidden();
        float[] want = EncoderReference.forward(model, batch, ActivationQuantization.PER_SENTENCE);
        float[] got;
        try (GraphEncoderRunner runner = new GraphEncoderRunner(model, m.pooling, null, pool, device.spec(), true, System.err)) {
            got = runner.lastHiddenState(batch);
            var report = runner.profile(batch.batch(), batch.length());
            for (var run : report.runs()) {
                for (OpSample s : run.samples()) {
                    assertTrue(s.isTransfer() || s.device().equals(device.spec()), s.node() + " ran on " + s.device());
                }
            }
        }
        float[] wantPooled = EncoderReference.pool(want, batch, h, m.pooling), gotPooled = EncoderReference.pool(got, batch, h, m.pooling);
        double minTok = 1, minSent = 1;
        int strict = 0;
        long identical = 0, real = 0;
        StringBuilder per = new StringBuilder();
        for (int b = 0; b < batch.batch(); b++) {
            double tokMin = 1;
            for (int t = 0; t < batch.realTokens(b); t++) {
                int at = (b * batch.length() + t) * h;
                tokMin = Math.min(tokMin, EncoderAccuracyTest.cosine(want, at, got, at, h));
                for (int i = 0; i < h; i++) { real++; if (want[at + i] == got[at + i]) identical++; }
            }
            double sent = EncoderAccuracyTest.cosine(wantPooled, b * h, gotPooled, b * h, h);
            if (tokMin >= TOKEN_BOUND && sent >= SENTENCE_BOUND) strict++;
            minTok = Math.min(minTok, tokMin);
            minSent = Math.min(minSent, sent);
            per.append(String.format(" [%d] %.9f/%.10f", b, tokMin, sent));
        }
        System.out.printf("%s OpenCL vs java reference: per-token cosine min %.9f; sentence cosine min %.10f; %d of %d sentences within"
                        + " %.5f/%.6f; %.1f%% of values identical; per sentence (token min/sentence):%s%n",
                m.id, minTok, minSent, strict, batch.batch(), TOKEN_BOUND, SENTENCE_BOUND, 100.0 * identical / real, per);
        assertTrue(strict * 2 >= batch.batch(), m.id + ": only " + strict + " sentences within the float-noise bounds");
        assertTrue(minTok >= FLIP_TOKEN_FLOOR, m.id + " per-token cosine " + minTok);
        assertTrue(minSent >= FLIP_SENTENCE_FLOOR, m.id + " sentence cosine " + minSent);

        try (OrtEncoder ort = new OrtEncoder(onnx)) {
            double ortTok = 1, ortSentMin = 1, ortSentSum = 0;
            int close = 0;
            for (int b = 0; b < batch.batch(); b++) {
                TokenBatch one = batch.row(b);
                float[] o = ort.lastHiddenState(one);
                for (int t = 0; t < one.length(); t++) ortTok = Math.min(ortTok, EncoderAccuracyTest.cosine(o, t * h, got, (b * batch.length() + t) * h, h));
                double sc = EncoderAccuracyTest.cosine(EncoderReference.pool(o, one, h, m.pooling), 0, gotPooled, b * h, h);
                ortSentMin = Math.min(ortSentMin, sc);
                ortSentSum += sc;
                if (sc >= 0.99999) close++;
            }
            double mean = ortSentSum / batch.batch();
            System.out.printf("%s OpenCL vs ONNX Runtime: per-token cosine min %.7f; sentence cosine min %.8f, mean %.8f; %d of %d >= 0.99999%n",
                    m.id, ortTok, ortSentMin, mean, close, batch.batch());
            assertTrue(close * 4 >= batch.batch() * 3, m.id + ": only " + close + " sentences within 0.99999 of ONNX Runtime");
            assertTrue(ortSentMin >= 0.995, m.id + " sentence cosine vs ORT " + ortSentMin);
            assertTrue(mean >= 0.9995, m.id + " mean sentence cosine vs ORT " + mean);
            assertTrue(ortTok >= 0.99, m.id + " per-token cosine vs ORT " + ortTok);
        }
    }

    @Test
    void allMiniLmOnOpenClMatchesTheReferenceAndOnnxRuntime() throws Exception { check(ModelCatalog.ALL_MINILM_L6_V2_Q); }

    @Test
    void bgeSmallOnOpenClMatchesTheReferenceAndOnnxRuntime() throws Exception { check(ModelCatalog.BGE_SMALL_EN_V15_Q); }
}
