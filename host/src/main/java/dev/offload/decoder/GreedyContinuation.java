package dev.offload.decoder;

/**
 * A greedy continuation and the logits each of its tokens was chosen from: what comparisons of two decoders' greedy
 * paths read (the demo model's validate case and its tests).
 *
 * @param logits [step][vocab]: step i's logits, after the prompt and the first i tokens
 */
public record GreedyContinuation(int[] tokens, float[][] logits) {
    /** The most likely next token, {@code n} times, on {@code b} with a fresh KV cache. */
    public static GreedyContinuation of(DecoderBackend b, int[] prompt, int n) {
        int[] out = new int[n];
        float[][] steps = new float[n][];
        try (DecoderBackend.Cache c = b.newCache(prompt.length + n)) {
            float[] logits = b.forward(prompt, c);
            for (int i = 0; i < n; i++) {
                steps[i] = logits;
                out[i] = Sampler.argmax(logits);
                if (i + 1 < n) logits = b.forward(new int[] {out[i]}, c);
            }
        }
        return new GreedyContinuation(out, steps);
    }

    /** How many leading tokens this and {@code other} share. */
    public int sharedPrefix(GreedyContinuation other) {
        int n = 0;
        while (n < Math.min(tokens.length, other.tokens.length) && tokens[n] == other.tokens[n]) n++;
        return n;
    }

    /** The largest |difference| of any logit over the first {@code steps} steps (those that saw the same history). */
    public double largestLogitDifference(GreedyContinuation other, int steps) {
        double d = 0;
        for (int s = 0; s < steps; s++) {
            float[] a = logits[s], b = other.logits[s];
            for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs((double) a[i] - b[i]));
        }
        return d;
    }

    /** The best logit minus the second best at {@code step}: how near a tie the choice was. */
    public double topTwoMargin(int step) {
        float[] l = logits[step];
        int best = Sampler.argmax(l);
        float second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < l.length; i++) if (i != best) second = Math.max(second, l[i]);
        return l[best] - second;
    }

    /** The smallest {@link #topTwoMargin} over all steps. */
    public double smallestMargin() {
        double m = Double.MAX_VALUE;
        for (int s = 0; s < tokens.length; s++) m = Math.min(m, topTwoMargin(s));
        return m;
    }
}
