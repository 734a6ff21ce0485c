package dev.offload.model;

/** How token states become one sentence embedding (then L2-normalized). */
public enum Pooling {
    /** Average of the states of real (attention-mask 1) tokens: sentence-transformers' mean pooling. */
    MEAN,
    /** The state of the first token ([CLS]). */
    CLS;

    /**
     * Sentence embeddings [batch][hidden] from last_hidden_state [batch][length][hidden]: pooled, then L2-normalized.
     * Sums in double, so the result does not depend on the order of the tokens' float sums.
     */
    public float[] embed(float[] hidden, TokenBatch in, int h) {
        float[] out = new float[in.batch() * h];
        double[] acc = new double[h];
        for (int b = 0; b < in.batch(); b++) {
            java.util.Arrays.fill(acc, 0);
            if (this == CLS) {
                for (int i = 0; i < h; i++) acc[i] = hidden[b * in.length() * h + i];
            } else {
                int n = 0;
                for (int s = 0; s < in.length(); s++) {
                    if (in.mask()[b * in.length() + s] == 0) continue;
                    n++;
                    for (int i = 0; i < h; i++) acc[i] += hidden[(b * in.length() + s) * h + i];
                }
                for (int i = 0; i < h; i++) acc[i] /= Math.max(n, 1);
            }
            double norm = 0;
            for (double a : acc) norm += a * a;
            norm = Math.max(Math.sqrt(norm), 1e-12);
            for (int i = 0; i < h; i++) out[b * h + i] = (float) (acc[i] / norm);
        }
        return out;
    }
}
