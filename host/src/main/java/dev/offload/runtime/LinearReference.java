package dev.offload.runtime;

import dev.offload.ops.gemm.Activation;

/**
 * Int8 and float linear layers in Java. The int8 path first computes the exact int32 accumulators (what an int8
 * GEMM kernel must reproduce bit for bit), then the float epilogue: acc * (scaleA * scaleW[n]) + bias, activation.
 */
public final class LinearReference {
    private LinearReference() {}

    /**
     * Weights widened to int and shifted by their zero points, once per node: C2 vectorizes int multiply-adds
     * but not byte-to-int ones, which makes the reference several times faster on big layers.
     */
    public static int[] widen(byte[] weight, byte[] weightZeroPoints, int n) {
        int[] w = new int[weight.length];
        for (int i = 0; i < weight.length; i++) w[i] = weight[i] - (weightZeroPoints == null ? 0 : weightZeroPoints[i % n]);
        return w;
    }

    /** Rows accumulated together: each weight row is loaded once per block instead of once per row. */
    private static final int ROW_BLOCK = 8;

    /** acc[m, n] = sum_k (a[m, k] - zpA(m)) * w[k, n] with w already shifted by its zero points. */
    public static int[] accumulate(byte[] a, boolean unsigned, int[] zeroPoints, int[] w, int m, int k, int n) {
        int[] acc = new int[m * n];
        int blocks = (m + ROW_BLOCK - 1) / ROW_BLOCK;
        LayersReference.rows(blocks, (long) ROW_BLOCK * k * n).forEach(blk -> {
            int r0 = blk * ROW_BLOCK, r1 = Math.min(m, r0 + ROW_BLOCK);
            for (int kk = 0; kk < k; kk++) {
                int wo = kk * n;
                for (int r = r0; r < r1; r++) {
                    int av = (unsigned ? a[r * k + kk] & 0xFF : a[r * k + kk]) - zeroPoints[zeroPoints.length == 1 ? 0 : r];
                    int o = r * n;
                    for (int j = 0; j < n; j++) acc[o + j] += av * w[wo + j];
                }
            }
        });
        return acc;
    }

    public static float[] epilogue(int[] acc, int m, int n, float[] scalesA, float[] scalesW, float[] bias, Activation act) {
        float[] y = new float[m * n];
        for (int r = 0; r < m; r++) {
            float sa = scalesA[scalesA.length == 1 ? 0 : r];
            for (int j = 0; j < n; j++) {
                float v = acc[r * n + j] * (sa * scalesW[j]) + (bias == null ? 0 : bias[j]);
                y[r * n + j] = act == Activation.NONE ? v : (float) LayersReference.activate(act, v);
            }
        }
        return y;
    }

    public static float[] floatLinear(float[] x, float[] w, float[] bias, Activation act, int m, int k, int n) {
        float[] y = new float[m * n];
        LayersReference.rows(m, (long) k * n).forEach(r -> {
            float[] acc = new float[n];
            for (int kk = 0; kk < k; kk++) {
                float xv = x[r * k + kk];
                int wo = kk * n;
                for (int j = 0; j < n; j++) acc[j] += xv * w[wo + j];
            }
            for (int j = 0; j < n; j++) {
                y[r * n + j] = (float) LayersReference.activate(act, acc[j] + (bias == null ? 0 : bias[j]));
            }
        });
        return y;
    }
}
