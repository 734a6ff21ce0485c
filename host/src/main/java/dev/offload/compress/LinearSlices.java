package dev.offload.compress;

import dev.offload.model.QuantizedLinear;
import java.util.Arrays;

/**
 * Structured pruning's two cuts of an int8 linear, and which parts survive: a linear keeps some of its output
 * columns (each with its scale, zero point and bias) or some of its input rows (the scales and biases are per output
 * and stay). The kept weights are the original bytes, copied, never requantized.
 */
final class LinearSlices {
    private LinearSlices() {}

    /** The indices of the {@code keep} highest scores, ascending (ties keep the lower index). */
    static int[] kept(double[] score, int keep) {
        Integer[] order = new Integer[score.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(score[b], score[a]));   // stable: equal scores in index order
        int[] kept = new int[keep];
        for (int i = 0; i < keep; i++) kept[i] = order[i];
        Arrays.sort(kept);
        return kept;
    }

    /** The linear with only output columns {@code kept}. */
    static QuantizedLinear columns(QuantizedLinear q, int[] kept) {
        int k = q.inputs(), n = q.outputs(), m = kept.length;
        byte[] w = new byte[k * m];
        float[] scale = new float[m], bias = new float[m];
        int[] zp = q.zeroPoint() == null ? null : new int[m];
        for (int i = 0; i < m; i++) {
            int j = kept[i];
            for (int kk = 0; kk < k; kk++) w[kk * m + i] = q.weight()[kk * n + j];
            scale[i] = q.scale()[j];
            bias[i] = q.bias()[j];
            if (zp != null) zp[i] = q.zeroPoint()[j];
        }
        return new QuantizedLinear(k, m, w, scale, zp, bias);
    }

    /** The linear with only input rows {@code kept}. */
    static QuantizedLinear rows(QuantizedLinear q, int[] kept) {
        int n = q.outputs(), m = kept.length;
        byte[] w = new byte[m * n];
        for (int i = 0; i < m; i++) System.arraycopy(q.weight(), kept[i] * n, w, i * n, n);
        return new QuantizedLinear(m, n, w, q.scale(), q.zeroPoint(), q.bias());
    }

    /** Weight (k, j) of {@code q} dequantized: (w - zero point of column j) x scale of column j. */
    static double dequantized(QuantizedLinear q, int k, int j) {
        return (q.weight()[k * q.outputs() + j] - q.zeroPoint(j)) * (double) q.scale()[j];
    }
}
