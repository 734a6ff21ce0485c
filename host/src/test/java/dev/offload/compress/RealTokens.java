package dev.offload.compress;

import dev.offload.model.TokenBatch;

/** Comparisons of two last_hidden_states over a batch's real tokens only (padded rows are not results). */
final class RealTokens {
    private RealTokens() {}

    /** {bit-identical values, all values} over the real tokens. */
    static long[] identical(TokenBatch batch, float[] a, float[] b, int h) {
        long same = 0, all = 0;
        for (int s = 0; s < batch.batch(); s++) {
            for (int t = 0; t < batch.realTokens(s); t++) {
                for (int i = 0; i < h; i++) {
                    int at = (s * batch.length() + t) * h + i;
                    all++;
                    if (Float.floatToIntBits(a[at]) == Float.floatToIntBits(b[at])) same++;
                }
            }
        }
        return new long[] {same, all};
    }

    static double maxAbs(TokenBatch batch, float[] a, float[] b, int h) {
        double m = 0;
        for (int s = 0; s < batch.batch(); s++) {
            for (int t = 0; t < batch.realTokens(s); t++) {
                for (int i = 0; i < h; i++) {
                    int at = (s * batch.length() + t) * h + i;
                    m = Math.max(m, Math.abs((double) a[at] - b[at]));
                }
            }
        }
        return m;
    }

    /** The smallest cosine of a real token's two hidden states. */
    static double minTokenCosine(TokenBatch batch, float[] a, float[] b, int h) {
        double m = 1;
        for (int s = 0; s < batch.batch(); s++) {
            for (int t = 0; t < batch.realTokens(s); t++) {
                double dot = 0, na = 0, nb = 0;
                for (int i = 0; i < h; i++) {
                    int at = (s * batch.length() + t) * h + i;
                    dot += (double) a[at] * b[at]; na += (double) a[at] * a[at]; nb += (double) b[at] * b[at];
                }
                m = Math.min(m, dot / Math.sqrt(na * nb));
            }
        }
        return m;
    }
}
