package dev.offload.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Choosing the next token: greedy, seeded sampling and each cut, checked against their definitions. */
class SamplerTest {
    static final int[] NONE = new int[0];

    static float[] logits(double... v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    static SamplingParams params(float t, int k, float p, float minP, long seed) { return new SamplingParams(t, k, p, minP, 1, 64, seed); }

    @Test
    void temperatureZeroIsTheHighestLogitAndTheLowestIdOnTies() {
        Sampler s = new Sampler(SamplingParams.greedy());
        assertEquals(2, s.next(logits(0.1, 3, 5, -1), NONE, 0));
        assertEquals(1, s.next(logits(0, 7, 7, 7), NONE, 0));
        assertEquals(1, s.next(logits(Float.NaN, -1, -2), NONE, 0), "NaN never wins");
        assertEquals(1, s.next(logits(Float.NaN, Float.NEGATIVE_INFINITY), NONE, 0));
    }

    @Test
    void theSameSeedGivesTheSameTokensAndOtherSeedsOtherOnes() {
        float[] l = new float[1000];
        Random r = new Random(7);
        for (int i = 0; i < l.length; i++) l[i] = (float) r.nextGaussian();
        int[] a = draw(new Sampler(params(1, 0, 1, 0, 42)), l, 50), b = draw(new Sampler(params(1, 0, 1, 0, 42)), l, 50),
                c = draw(new Sampler(params(1, 0, 1, 0, 43)), l, 50);
        assertEquals(Arrays.toString(a), Arrays.toString(b));
        assertTrue(!Arrays.equals(a, c), "seed 43 drew the same 50 tokens as seed 42");
    }

    @Test
    void drawsFollowTheSoftmaxAtTheTemperature() {
        // Three tokens with logits 0, ln 2, ln 4 have probabilities 1/7, 2/7, 4/7 at T = 1, and at T = 2 their square roots.
        float[] l = logits(0, Math.log(2), Math.log(4));
        for (float t : new float[] {1, 2}) {
            Sampler s = new Sampler(params(t, 0, 1, 0, 1));
            int[] counts = new int[3];
            int n = 70_000;
            for (int i = 0; i < n; i++) counts[s.next(l, NONE, 0)]++;
            double[] w = {1, Math.pow(2, 1 / t), Math.pow(4, 1 / t)};
            double sum = w[0] + w[1] + w[2];
            for (int i = 0; i < 3; i++) {
                double want = w[i] / sum, got = counts[i] / (double) n;
                // 5 standard deviations of a binomial share: fails by chance about once in 3 million runs.
                assertEquals(want, got, 5 * Math.sqrt(want * (1 - want) / n), "token " + i + " at T=" + t);
            }
        }
    }

    @Test
    void topKTopPAndMinPKeepOnlyWhatTheirDefinitionsAllow() {
        // Probabilities at T=1: 0.5, 0.25, 0.125, 0.0625, 0.0625.
        float[] l = logits(Math.log(8), Math.log(4), Math.log(2), 0, 0);
        assertOnly(params(1, 2, 1, 0, 3), l, 0, 1);            // top-k 2
        assertOnly(params(1, 0, 0.7f, 0, 3), l, 0, 1);         // 0.5 + 0.25 >= 0.7
        assertOnly(params(1, 0, 0.8f, 0, 3), l, 0, 1, 2);
        assertOnly(params(1, 0, 1, 0.2f, 3), l, 0, 1, 2);      // 0.125 >= 0.2 * 0.5, 0.0625 is not
        assertOnly(params(1, 0, 1, 0.3f, 3), l, 0, 1);
    }

    @Test
    void theRepeatPenaltyDividesPositiveAndMultipliesNegativeLogitsOfRecentTokens() {
        Sampler s = new Sampler(new SamplingParams(0, 0, 1, 0, 2f, 2, 0));
        // Token 0 (logit 3) is recent: 3 / 2 = 1.5 < 2, so token 1 wins.
        assertEquals(1, s.next(logits(3, 2, -1), new int[] {0}, 1));
        // Only the last 2 tokens count: token 0 three steps ago is not penalized.
        assertEquals(0, s.next(logits(3, 2, -1), new int[] {0, 2, 2}, 3));
        // A negative logit gets more negative: -1 * 2 = -2 < -1.5.
        assertEquals(1, s.next(logits(-1, -1.5, -3), new int[] {0}, 1));
    }

    @Test
    void badParametersAreRejectedWithTheirName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> params(-1, 0, 1, 0, 0)).getMessage().contains("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> params(1, -1, 1, 0, 0)).getMessage().contains("top-k"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> params(1, 0, 0, 0, 0)).getMessage().contains("top-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> params(1, 0, 1, 1, 0)).getMessage().contains("min-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 0, 1, 0, 0, 64, 0)).getMessage().contains("repeat penalty"));
    }

    private static void assertOnly(SamplingParams p, float[] l, int... allowed) {
        Sampler s = new Sampler(p);
        boolean[] seen = new boolean[l.length];
        for (int i = 0; i < 4000; i++) seen[s.next(l, NONE, 0)] = true;
        for (int t = 0; t < l.length; t++) {
            final int token = t;
            boolean ok = Arrays.stream(allowed).anyMatch(a -> a == token);
            assertEquals(ok, seen[t], "token " + t + (ok ? " never drawn" : " drawn") + " with " + p);
        }
    }

    private static int[] draw(Sampler s, float[] l, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = s.next(l, NONE, 0);
        return out;
    }
}
