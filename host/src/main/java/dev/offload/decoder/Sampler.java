package dev.offload.decoder;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks each next token from a step's logits by {@link SamplingParams}. One sampler per generated sequence (it
 * holds the generator's state); not thread-safe. Logits that are NaN never win: a NaN logit is treated as the
 * least likely (so a device fault shows as odd text, not as a crash, and the reference comparison flags it).
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    public SamplingParams params() { return params; }

    /**
     * The next token.
     *
     * @param logits  one value per vocabulary entry (not modified)
     * @param history the tokens so far (prompt and generated), for the repetition penalty
     * @param length  how many entries of {@code history} are valid
     */
    public int next(float[] logits, int[] history, int length) {
        int n = logits.length;
        if (n == 0) throw new IllegalArgumentException("no logits");
        float[] l = penalized(logits, history, length);
        if (params.isGreedy()) return argmax(l);

        // Candidates by decreasing logit (ties: lower id first), cut by top-k. Sorting primitive keys (logit, id)
        // keeps a 128k vocabulary at a few milliseconds a token.
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) keys[i] = ((long) ~sortable(l[i]) << 32) | i;
        Arrays.sort(keys);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = (int) keys[i];
        int keep = params.topK() > 0 ? Math.min(params.topK(), n) : n;

        // Softmax over the candidates at temperature 1 for the top-p and min-p cuts (as llama.cpp orders them).
        double[] p = softmax(l, order, keep, 1.0);
        double cumulative = 0;
        int byP = keep;
        for (int i = 0; i < keep; i++) {
            cumulative += p[i];
            if (cumulative >= params.topP()) { byP = i + 1; break; }
        }
        keep = byP;
        if (params.minP() > 0) {
            int byMin = 1;
            while (byMin < keep && p[byMin] >= params.minP() * p[0]) byMin++;
            keep = byMin;
        }

        double[] q = softmax(l, order, keep, params.temperature());
        double u = random.nextDouble(), acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += q[i];
            if (u < acc) return order[i];
        }
        return order[keep - 1];
    }

    /** The logits with the repetition penalty applied to tokens seen in the last repeatLastN of the history. */
    private float[] penalized(float[] logits, int[] history, int length) {
        if (params.repeatPenalty() == 1 || params.repeatLastN() == 0 || length == 0) return logits;
        float[] l = logits.clone();
        boolean[] seen = new boolean[l.length];
        for (int i = Math.max(0, length - params.repeatLastN()); i < length; i++) {
            int t = history[i];
            if (t < 0 || t >= l.length || seen[t]) continue;
            seen[t] = true;
            l[t] = l[t] > 0 ? l[t] / params.repeatPenalty() : l[t] * params.repeatPenalty();
        }
        return l;
    }

    /** An int that orders like the float (NaN below every number, -Inf included). */
    private static int sortable(float v) {
        if (Float.isNaN(v)) return Integer.MIN_VALUE;
        int bits = Float.floatToIntBits(v == 0 ? 0f : v);   // -0 and +0 alike
        return bits < 0 ? bits ^ 0x7fffffff : bits;
    }

    public static int argmax(float[] l) {
        int best = -1;
        for (int i = 0; i < l.length; i++) if (!Float.isNaN(l[i]) && (best < 0 || l[i] > l[best])) best = i;
        return best < 0 ? 0 : best;
    }

    /** Probabilities of the first {@code keep} candidates in {@code order}, at temperature {@code t}. */
    private static double[] softmax(float[] l, int[] order, int keep, double t) {
        double[] p = new double[keep];
        double max = Float.isNaN(l[order[0]]) ? Float.NEGATIVE_INFINITY : l[order[0]], sum = 0;
        for (int i = 0; i < keep; i++) {
            float v = l[order[i]];
            p[i] = Float.isNaN(v) || v == Float.NEGATIVE_INFINITY ? 0 : Math.exp((v - max) / t);
            sum += p[i];
        }
        if (!(sum > 0)) {   // every candidate -Inf or NaN: the first one
            Arrays.fill(p, 0);
            p[0] = 1;
            return p;
        }
        for (int i = 0; i < keep; i++) p[i] /= sum;
        return p;
    }
}
