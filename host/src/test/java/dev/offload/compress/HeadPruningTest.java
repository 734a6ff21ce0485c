package dev.offload.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.Embeddings;
import dev.offload.model.EncoderConfig;
import dev.offload.model.EncoderLayer;
import dev.offload.model.EncoderModel;
import dev.offload.model.LayerNormWeights;
import dev.offload.model.ModelCatalog;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.TokenBatch;
import dev.offload.model.onnx.EncoderImporter;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Head pruning removes whole heads, the same number in every layer, the least important first, and keeps the
 * surviving heads' weights as they were: checked on the real all-MiniLM-L6-v2-q weights (12 heads of 32) and, where
 * the right answer must be known in advance, on a tiny seeded encoder.
 */
class HeadPruningTest {
    static EncoderModel model;
    static Calibration calibration;

    @BeforeAll
    static void load() {
        ModelCatalog m = ModelCatalog.ALL_MINILM_L6_V2_Q;
        model = EncoderImporter.importBytes(m.onnxBytes(), m.onnxEntry);
        calibration = Calibration.builtIn(WordPieceTokenizer.fromJson(m.tokenizerBytes(), m.tokenizerEntry));
    }

    @Test
    void theImportedModelCarriesItsHeadSize() {
        EncoderConfig c = model.config();
        assertEquals(12, c.heads());
        assertEquals(32, c.headSize());
        assertEquals(c.hidden(), c.attentionWidth(), "unpruned: attention is as wide as the model");
    }

    @Test
    void everyLayerKeepsHeadsTimesOneMinusTargetAndTheKeptHeadsBitForBit() {
        for (HeadImportance importance : HeadImportance.values()) {
            CompressionSpec spec = new CompressionSpec(Method.HEADS, 0.25, 0, 0, importance);
            Compressor.Compressed c = Compressor.compress(model, spec, calibration);
            EncoderConfig k = c.model().config();
            assertEquals(9, k.heads(), spec + ": 12 x (1 - 0.25)");
            assertEquals(32, k.headSize(), "the head size stays (so does the score divisor)");
            assertEquals(model.config().scoreDivisor(), k.scoreDivisor());
            assertEquals(model.config().hidden(), k.hidden());
            assertEquals(9 * 32, k.attentionWidth());
            double[][] score = importance == HeadImportance.ACTIVATION ? HeadActivations.of(model, calibration.batches())
                    : model.layers().stream().map(l -> HeadPruning.magnitude(l, 12, 32)).toArray(double[][]::new);
            for (int i = 0; i < model.layers().size(); i++) {
                EncoderLayer was = model.layers().get(i), now = c.model().layers().get(i);
                int[] kept = LinearSlices.kept(score[i], 9);
                assertLeastImportantRemoved(score[i], kept);
                for (var pair : List.of(new Linear2(was.query(), now.query()), new Linear2(was.key(), now.key()), new Linear2(was.value(), now.value()))) {
                    QuantizedLinear a = pair.was(), b = pair.now();
                    assertEquals(a.inputs(), b.inputs());
                    assertEquals(9 * 32, b.outputs());
                    for (int m = 0; m < kept.length; m++) {
                        for (int j = 0; j < 32; j++) {
                            int from = kept[m] * 32 + j, to = m * 32 + j;
                            for (int kk = 0; kk < a.inputs(); kk++) assertEquals(a.weight()[kk * a.outputs() + from], b.weight()[kk * b.outputs() + to]);
                            assertEquals(Float.floatToIntBits(a.scale()[from]), Float.floatToIntBits(b.scale()[to]));
                            assertEquals(Float.floatToIntBits(a.bias()[from]), Float.floatToIntBits(b.bias()[to]));
                            assertEquals(a.zeroPoint(from), b.zeroPoint(to));
                        }
                    }
                }
                QuantizedLinear o = (QuantizedLinear) was.attentionOutput(), o2 = (QuantizedLinear) now.attentionOutput();
                assertEquals(9 * 32, o2.inputs());
                assertEquals(o.outputs(), o2.outputs());
                for (int m = 0; m < kept.length; m++) {
                    for (int j = 0; j < 32; j++) {
                        int from = kept[m] * 32 + j, to = m * 32 + j;
                        assertArrayEquals(Arrays.copyOfRange(o.weight(), from * o.outputs(), (from + 1) * o.outputs()),
                                Arrays.copyOfRange(o2.weight(), to * o.outputs(), (to + 1) * o.outputs()));
                    }
                }
                assertArrayEquals(o.scale(), o2.scale());
                assertArrayEquals(o.bias(), o2.bias());
                // The FFN and the norms are the original objects.
                assertSame(was.intermediate(), now.intermediate());
                assertSame(was.output(), now.output());
                assertSame(was.attentionNorm(), now.attentionNorm());
            }
        }
    }

    private record Linear2(QuantizedLinear was, QuantizedLinear now) {
        Linear2(dev.offload.model.Linear a, dev.offload.model.Linear b) { this((QuantizedLinear) a, (QuantizedLinear) b); }
    }

    private static void assertLeastImportantRemoved(double[] score, int[] kept) {
        boolean[] isKept = new boolean[score.length];
        double minKept = Double.MAX_VALUE, maxRemoved = -1;
        for (int h : kept) { isKept[h] = true; minKept = Math.min(minKept, score[h]); }
        for (int h = 0; h < score.length; h++) if (!isKept[h]) maxRemoved = Math.max(maxRemoved, score[h]);
        assertTrue(maxRemoved <= minKept, "a removed head scores " + maxRemoved + ", above a kept one's " + minKept);
    }

    /** Tiny encoder: hidden 8, 4 heads of 2, FFN 16, one layer, seeded weights; head {@code silent} writes nothing. */
    static EncoderModel tiny(long seed, int silent) {
        Random r = new Random(seed);
        int h = 8, heads = 4, d = 2, ffn = 16, vocab = 20, positions = 16;
        float[] ones = new float[h], zeros = new float[h];
        Arrays.fill(ones, 1f);
        LayerNormWeights norm = new LayerNormWeights(ones, zeros, 1e-12f);
        Embeddings e = new Embeddings(gaussian(r, vocab * h), gaussian(r, positions * h), gaussian(r, 2 * h), norm);
        QuantizedLinear o = linear(r, h, h);
        for (int c = silent * d; c < (silent + 1) * d; c++) Arrays.fill(o.weight(), c * h, (c + 1) * h, (byte) 0);
        EncoderLayer layer = new EncoderLayer(linear(r, h, h), linear(r, h, h), linear(r, h, h), o, norm,
                linear(r, h, ffn), linear(r, ffn, h), norm);
        EncoderConfig c = new EncoderConfig(h, heads, d, 1, ffn, vocab, positions, 2, (float) Math.sqrt(d));
        return new EncoderModel("tiny", c, e, List.of(layer));
    }

    private static QuantizedLinear linear(Random r, int k, int n) {
        byte[] w = new byte[k * n];
        for (int i = 0; i < w.length; i++) w[i] = (byte) (r.nextInt(255) - 127);
        float[] scale = new float[n], bias = new float[n];
        for (int j = 0; j < n; j++) { scale[j] = 0.01f + 0.01f * r.nextFloat(); bias[j] = (float) (0.1 * r.nextGaussian()); }
        return new QuantizedLinear(k, n, w, scale, null, bias);
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    private static Calibration tinyCalibration(long seed) {
        Random r = new Random(seed);
        List<TokenBatch.Sequence> seqs = new ArrayList<>();
        for (int s = 0; s < 5; s++) {
            long[] ids = new long[3 + s];
            for (int t = 0; t < ids.length; t++) ids[t] = r.nextInt(20);
            seqs.add(new TokenBatch.Sequence(ids, new long[ids.length]));
        }
        return new Calibration(List.of(TokenBatch.pad(seqs, 0)), seqs.size());
    }

    @Test
    void aHeadThatWritesNothingIsRemovedFirstByEitherImportance() {
        for (int s = 0; s < 4; s++) {
            int silent = s;
            EncoderModel m = tiny(17 + silent, silent);
            double[] magnitude = HeadPruning.magnitude(m.layers().getFirst(), 4, 2);
            double[] activation = HeadActivations.of(m, tinyCalibration(5).batches())[0];
            for (int h = 0; h < 4; h++) {
                if (h == silent) continue;
                assertTrue(magnitude[h] > 0 && activation[h] > 0, "head " + h + " writes something");
            }
            assertEquals(0, magnitude[silent]);
            assertEquals(0, activation[silent]);
            for (HeadImportance importance : HeadImportance.values()) {
                Compressor.Compressed c = Compressor.compress(m, new CompressionSpec(Method.HEADS, 0.25, 0, 0, importance), tinyCalibration(5));
                int[] want = java.util.stream.IntStream.range(0, 4).filter(x -> x != silent).toArray();
                QuantizedLinear q = (QuantizedLinear) c.model().layers().getFirst().query(), q0 = (QuantizedLinear) m.layers().getFirst().query();
                assertEquals(3, c.model().config().heads());
                assertEquals(6, q.outputs());
                // The kept columns are those of the other three heads, in order.
                for (int i = 0; i < want.length; i++) {
                    for (int j = 0; j < 2; j++) assertEquals(q0.bias()[want[i] * 2 + j], q.bias()[i * 2 + j], importance + ": head " + silent + " removed");
                }
            }
        }
    }

    @Test
    void activationImportanceNeedsCalibrationSentences() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Compressor.compress(model, CompressionSpec.of(Method.HEADS, 0.5)));
        assertTrue(e.getMessage().contains("needs calibration sentences"), e.getMessage());
    }

    @Test
    void calibrationAndEvaluationSentencesDoNotOverlap() {
        List<String> cal = SentenceSet.calibration(), eval = SentenceSet.evaluation();
        assertEquals(64, cal.size());
        assertEquals(SentenceSet.builtIn().size(), cal.size() + eval.size());
        assertTrue(eval.size() >= 500, "the report keeps at least 500 sentences");
        assertTrue(java.util.Collections.disjoint(new java.util.HashSet<>(cal), new java.util.HashSet<>(eval)), "a sentence both calibrates and judges");
    }
}
