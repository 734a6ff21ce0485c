package dev.offload.decoder;

/**
 * Rotary position embedding (RoPE), the reference: each head's pairs turn by an angle that grows with the token's
 * position, pair i at pos * base^(-2i / d). Computed in double for the angles (positions up to the context length
 * times frequencies near 1 lose float precision), rounded once to float.
 */
public final class Rope {
    private Rope() {}

    /**
     * Rotates {@code x} [tokens][heads * headDim] in place; token t sits at position {@code firstPosition + t}.
     */
    public static void apply(float[] x, int tokens, int heads, int headDim, int firstPosition, float base, DecoderConfig.RopeStyle style) {
        if ((long) tokens * heads * headDim != x.length) throw new IllegalArgumentException("rope: " + x.length + " values are not " + tokens + " x " + heads + " x " + headDim);
        int half = headDim / 2;
        double[] cos = new double[half], sin = new double[half];
        for (int t = 0; t < tokens; t++) {
            int pos = firstPosition + t;
            for (int i = 0; i < half; i++) {
                double angle = pos * Math.pow(base, -2.0 * i / headDim);
                cos[i] = Math.cos(angle);
                sin[i] = Math.sin(angle);
            }
            for (int h = 0; h < heads; h++) {
                int o = (t * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    int a = style == DecoderConfig.RopeStyle.ADJACENT_PAIRS ? o + 2 * i : o + i;
                    int b = style == DecoderConfig.RopeStyle.ADJACENT_PAIRS ? o + 2 * i + 1 : o + i + half;
                    double x0 = x[a], x1 = x[b];
                    x[a] = (float) (x0 * cos[i] - x1 * sin[i]);
                    x[b] = (float) (x0 * sin[i] + x1 * cos[i]);
                }
            }
        }
    }
}
