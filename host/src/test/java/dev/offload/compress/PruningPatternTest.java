package dev.offload.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.EncoderLayer;
import dev.offload.model.EncoderModel;
import dev.offload.model.ModelCatalog;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.onnx.EncoderImporter;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each method keeps exactly the pattern it promises, on the real all-MiniLM-L6-v2-q weights: counted, not sampled. */
class PruningPatternTest {
    static EncoderModel model;

    @BeforeAll
    static void load() {
        ModelCatalog m = ModelCatalog.ALL_MINILM_L6_V2_Q;
        model = EncoderImporter.importBytes(m.onnxBytes(), m.onnxEntry);
    }

    /** The pairs (original, pruned) of every linear of every layer. */
    static List<QuantizedLinear[]> pairs(Compressor.Compressed c) {
        List<QuantizedLinear[]> p = new java.util.ArrayList<>();
        for (int i = 0; i < model.layers().size(); i++) {
            List<dev.offload.model.Linear> a = CompressedModelFile.linears(model.layers().get(i)), b = CompressedModelFile.linears(c.model().layers().get(i));
            for (int j = 0; j < a.size(); j++) p.add(new QuantizedLinear[] {(QuantizedLinear) a.get(j), (QuantizedLinear) b.get(j)});
        }
        return p;
    }

    @Test
    void magnitudeKeepsTheLargestShareOfEveryOutputChannelAndNothingElse() {
        Compressor.Compressed c = Compressor.compress(model, CompressionSpec.of(Method.MAGNITUDE, 0.7));
        long zeros = 0, all = 0;
        for (QuantizedLinear[] p : pairs(c)) {
            QuantizedLinear was = p[0], now = p[1];
            int k = was.inputs(), n = was.outputs(), keep = (int) Math.round(0.3 * k);
            for (int j = 0; j < n; j++) {
                int kept = 0, before = 0, smallestKept = 128, largestDropped = -1;
                for (int kk = 0; kk < k; kk++) {
                    byte a = was.weight()[kk * n + j], b = now.weight()[kk * n + j];
                    if (a != 0) before++;
                    if (b != 0) { kept++; assertEquals(a, b); smallestKept = Math.min(smallestKept, Math.abs(a)); }
                    else largestDropped = Math.max(largestDropped, Math.abs(a));
                }
                assertEquals(Math.min(keep, before), kept, "channel " + j + " keeps " + kept);
                assertTrue(kept == 0 || largestDropped <= smallestKept, "a dropped weight is larger than a kept one");
                zeros += k - kept;
                all += k;
            }
        }
        System.out.printf("magnitude 0.7: %.4f of all weights zero%n", (double) zeros / all);
        assertTrue((double) zeros / all >= 0.7 - 1e-3);
    }

    @Test
    void twoFourKeepsAtMostTwoOfEveryFourInputsOfAChannel() {
        Compressor.Compressed c = Compressor.compress(model, CompressionSpec.of(Method.TWO_FOUR, 0.5));
        for (QuantizedLinear[] p : pairs(c)) {
            QuantizedLinear was = p[0], now = p[1];
            int k = was.inputs(), n = was.outputs();
            for (int j = 0; j < n; j++) {
                for (int k0 = 0; k0 < k; k0 += 4) {
                    int kept = 0, before = 0;
                    for (int kk = k0; kk < k0 + 4; kk++) {
                        byte a = was.weight()[kk * n + j], b = now.weight()[kk * n + j];
                        if (a != 0) before++;
                        if (b != 0) { kept++; assertEquals(a, b); }
                    }
                    assertEquals(Math.min(2, before), kept);
                }
            }
        }
    }

    @Test
    void blockZeroesExactlyTheTargetShareOfBlocksAndLeavesTheOthersIntact() {
        CompressionSpec spec = new CompressionSpec(Method.BLOCK, 0.6, 4, 16);
        Compressor.Compressed c = Compressor.compress(model, spec);
        for (QuantizedLinear[] p : pairs(c)) {
            QuantizedLinear was = p[0], now = p[1];
            int k = was.inputs(), n = was.outputs(), blocks = (n / 4) * (k / 16), changed = 0;
            for (int br = 0; br < n / 4; br++) {
                for (int bc = 0; bc < k / 16; bc++) {
                    boolean zero = true, same = true;
                    for (int j = br * 4; j < br * 4 + 4; j++) {
                        for (int kk = bc * 16; kk < bc * 16 + 16; kk++) {
                            zero &= now.weight()[kk * n + j] == 0;
                            same &= now.weight()[kk * n + j] == was.weight()[kk * n + j];
                        }
                    }
                    assertTrue(same || zero, "a block was changed without being zeroed");
                    if (!same) changed++;
                }
            }
            // All-zero blocks have norm 0 and go first: the matrix ends with exactly max(drop, zero before) zero blocks.
            int before = BlockPruning.zeroBlocks(was.weight(), k, n, 4, 16), after = BlockPruning.zeroBlocks(now.weight(), k, n, 4, 16);
            assertEquals(Math.max(Math.round(0.6 * blocks), before), after, "zero blocks");
            assertEquals(after - before, changed, "only the zeroed blocks changed");
        }
    }

    /** The kept width is the nearest multiple of 16 to (1 - target) x 1536 (CompressionSpec.WIDTH_MULTIPLE says why). */
    @Test
    void ffnNeuronsKeepAMultipleOfSixteenNeurons() {
        var config = model.config();
        assertEquals(768, CompressionSpec.of(Method.FFN_NEURONS, 0.5).neuronsRemoved(config));
        assertEquals(1536 - 1072, CompressionSpec.of(Method.FFN_NEURONS, 0.3).neuronsRemoved(config), "0.7 x 1536 = 1075.2 -> 1072 kept");
        assertEquals(1536 - 16, CompressionSpec.of(Method.FFN_NEURONS, 0.99).neuronsRemoved(config), "15.36 -> 16 kept");
        Compressor.Compressed c = Compressor.compress(model, CompressionSpec.of(Method.FFN_NEURONS, 0.3));
        assertEquals(1072, c.model().config().intermediate());
        for (EncoderLayer l : c.model().layers()) assertEquals(1072, ((QuantizedLinear) l.intermediate()).outputs());
        for (double tooLittle : new double[] {0.004, 0.9999}) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> CompressionSpec.of(Method.FFN_NEURONS, tooLittle).check(config));
            assertTrue(e.getMessage().contains("keep at least one"), e.getMessage());
        }
    }

    @Test
    void ffnNeuronsRemovesWholeNeuronsTheLeastImportantFirst() {
        Compressor.Compressed c = Compressor.compress(model, CompressionSpec.of(Method.FFN_NEURONS, 0.5));
        assertEquals(768, c.model().config().intermediate());
        for (int i = 0; i < model.layers().size(); i++) {
            EncoderLayer was = model.layers().get(i), now = c.model().layers().get(i);
            QuantizedLinear up = (QuantizedLinear) was.intermediate(), down = (QuantizedLinear) was.output();
            QuantizedLinear up2 = (QuantizedLinear) now.intermediate(), down2 = (QuantizedLinear) now.output();
            assertEquals(768, up2.outputs());
            assertEquals(768, down2.inputs());
            assertEquals(down.outputs(), down2.outputs());
            double[] score = FfnNeuronPruning.importance(up, down);
            int[] kept = LinearSlices.kept(score, 768);
            double minKept = Double.MAX_VALUE, maxDropped = 0;
            boolean[] isKept = new boolean[up.outputs()];
            for (int j : kept) { isKept[j] = true; minKept = Math.min(minKept, score[j]); }
            for (int j = 0; j < score.length; j++) if (!isKept[j]) maxDropped = Math.max(maxDropped, score[j]);
            assertTrue(maxDropped <= minKept, "a removed neuron is more important than a kept one");
            for (int m = 0; m < kept.length; m++) {
                int j = kept[m];
                for (int k = 0; k < up.inputs(); k++) assertEquals(up.weight()[k * up.outputs() + j], up2.weight()[k * 768 + m]);
                assertEquals(up.bias()[j], up2.bias()[m]);
                assertEquals(up.scale()[j], up2.scale()[m]);
                byte[] row = java.util.Arrays.copyOfRange(down.weight(), j * down.outputs(), (j + 1) * down.outputs());
                assertArrayEquals(row, java.util.Arrays.copyOfRange(down2.weight(), m * down.outputs(), (m + 1) * down.outputs()));
            }
            // Attention is untouched.
            assertTrue(was.query() == now.query() && was.attentionOutput() == now.attentionOutput());
        }
    }
}
