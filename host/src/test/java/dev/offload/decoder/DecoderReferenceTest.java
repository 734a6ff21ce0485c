package dev.offload.decoder;

import dev.offload.graph.RotaryEmbedding;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The reference decoder's contract: the KV cache changes nothing (a prompt at once, token by token, or split anywhere
 * gives the same logits), the model is causal (later tokens never change earlier logits), and bad input is refused.
 *
 * <p>Bound: the paths differ only in the order of float operations over one token's row (the linears accumulate
 * each row alone; attention sums in double), so the logits agree to float rounding: max |a - b| <= 1e-5 max |a|.
 */
class DecoderReferenceTest {
    static final double BOUND = 1e-5;

    @ParameterizedTest
    @CsvSource({"ADJACENT_PAIRS, false", "HALVES, true"})
    void aPromptAtOnceTokenByTokenOrSplitGivesTheSameLogits(RotaryEmbedding.Style style, boolean bias) {
        DecoderConfig c = RandomDecoders.config(style, bias);
        DecoderReference ref = new DecoderReference(c, RandomDecoders.weights(c, 11));
        int[] prompt = RandomDecoders.tokens(new Random(3), 13, c.vocab());

        float[] atOnce = ref.forward(prompt, ref.newState(32));
        float[] stepwise = null;
        DecoderReference.State s = ref.newState(32);
        for (int t : prompt) stepwise = ref.forward(new int[] {t}, s);
        DecoderReference.State split = ref.newState(32);
        ref.forward(java.util.Arrays.copyOfRange(prompt, 0, 5), split);
        float[] twoParts = ref.forward(java.util.Arrays.copyOfRange(prompt, 5, 13), split);

        assertClose(atOnce, stepwise, "prompt at once vs token by token");
        assertClose(atOnce, twoParts, "prompt at once vs 5 + 8 tokens");
        assertEquals(13, s.length());
    }

    @Test
    void laterTokensNeverChangeEarlierLogits() {
        DecoderConfig c = RandomDecoders.config(RotaryEmbedding.Style.ADJACENT_PAIRS, false);
        DecoderReference ref = new DecoderReference(c, RandomDecoders.weights(c, 5));
        int[] tokens = RandomDecoders.tokens(new Random(8), 10, c.vocab());
        float[] all = ref.forwardAll(tokens, ref.newState(16));
        for (int i = 0; i < tokens.length; i++) {
            float[] prefix = ref.forward(java.util.Arrays.copyOf(tokens, i + 1), ref.newState(16));
            assertClose(java.util.Arrays.copyOfRange(all, i * c.vocab(), (i + 1) * c.vocab()), prefix, "logits after token " + i);
        }
        // And positions matter: the same token at two positions gives different logits.
        float[] a = ref.forward(new int[] {1, 2, 3}, ref.newState(8)), b = ref.forward(new int[] {2, 1, 3}, ref.newState(8));
        assertTrue(maxDiff(a, b) > 1e-3, "swapping earlier tokens changed nothing");
    }

    /**
     * The int8-block mode quantizes each token's row alone, so the cache contract holds there bit for bit; it is a
     * different arithmetic from the float mode (logits move, by about what int8 rounding of every activation gives),
     * and it needs whole blocks of 32 (the random test config's hidden size, 48, is refused).
     */
    @Test
    void int8BlockActivationsKeepTheCacheContractAndNeedWholeBlocks() {
        DecoderConfig c = new DecoderConfig(DecoderConfig.Architecture.LLAMA, 2, 64, 4, 2, 16, 96, 97, 32, 10000f,
                RotaryEmbedding.Style.ADJACENT_PAIRS, 1e-5f, false);
        DecoderWeights w = RandomDecoders.weights(c, 21);
        DecoderReference int8 = new DecoderReference(c, w, DecoderReference.Activations.INT8_BLOCKS), fp = new DecoderReference(c, w);
        int[] prompt = RandomDecoders.tokens(new Random(4), 9, c.vocab());
        float[] atOnce = int8.forward(prompt, int8.newState(16)), stepwise = null;
        DecoderReference.State s = int8.newState(16);
        for (int t : prompt) stepwise = int8.forward(new int[] {t}, s);
        assertArrayEquals(atOnce, stepwise, "int8 blocks: prompt at once vs token by token");
        double moved = maxDiff(atOnce, fp.forward(prompt, fp.newState(16))), max = 0;
        for (float v : atOnce) max = Math.max(max, Math.abs(v));
        assertTrue(moved > BOUND * max && moved < 0.05 * max, "int8 activations moved the logits by " + moved + " of " + max);

        DecoderConfig odd = RandomDecoders.config(RotaryEmbedding.Style.ADJACENT_PAIRS, false);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DecoderReference(odd, RandomDecoders.weights(odd, 1),
                DecoderReference.Activations.INT8_BLOCKS)).getMessage().contains("multiple of 32"));
    }

    @Test
    void aFullContextAndTokensOutsideTheVocabularyAreRefused() {
        DecoderConfig c = RandomDecoders.config(RotaryEmbedding.Style.ADJACENT_PAIRS, false);
        DecoderReference ref = new DecoderReference(c, RandomDecoders.weights(c, 5));
        DecoderReference.State s = ref.newState(4);
        ref.forward(new int[] {1, 2, 3}, s);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ref.forward(new int[] {4, 5}, s)).getMessage().contains("context is full"));
        assertThrows(IllegalArgumentException.class, () -> ref.forward(new int[] {c.vocab()}, ref.newState(4)));
        assertThrows(IllegalArgumentException.class, () -> ref.newState(c.contextLength() + 1));
        var wrong = new DecoderWeights(new float[3], RandomDecoders.weights(c, 1).layers(), new float[c.hidden()], new float[c.hidden() * c.vocab()]);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DecoderReference(c, wrong)).getMessage().contains("token embedding"));
    }

    static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double max = 0;
        for (float v : want) max = Math.max(max, Math.abs(v));
        double diff = maxDiff(want, got);
        assertTrue(diff <= BOUND * max, what + ": max |diff| " + diff + " > " + BOUND + " x " + max);
    }

    static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }
}
