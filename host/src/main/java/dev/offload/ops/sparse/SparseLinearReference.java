package dev.offload.ops.sparse;

import dev.offload.ops.gemm.Activation;
import dev.offload.ops.gemm.Int8GemmReference;

/**
 * The plain-Java judge of the sparse linear kernels, computed straight from the stored form of the weight, S = W^T
 * [N, K] (CSR, BSR or 2:4, every stored value in storage order): {@code acc[t, n] = sum (a[t, k] - za(t)) * S[n, k]}
 * in int32 with Java's wrap-around, then the dense int8 linear's float epilogue
 * ({@link Int8GemmReference#int8Linear}). Integer addition is associative, so the sums equal the dense
 * {@link Int8GemmReference#accumulate} of the densified weight bit for bit, and so do the outputs.
 */
public final class SparseLinearReference {
    private SparseLinearReference() {}

    /**
     * acc [T, N] for activations a [T, K] (uint8 when {@code unsigned}, else int8) with zero points per tensor ([1])
     * or per row ([T]).
     */
    public static int[] accumulate(SparseMatrix weightT, byte[] a, boolean unsigned, int[] zeroPoints, int tokens) {
        int n = weightT.rows(), k = weightT.cols();
        if ((long) tokens * k != a.length) {
            throw new IllegalArgumentException("activations must be [T=" + tokens + ", K=" + k + "] = " + (long) tokens * k + " values, got " + a.length);
        }
        if (zeroPoints.length != 1 && zeroPoints.length != tokens) {
            throw new IllegalArgumentException("zero points per tensor (1) or per row (" + tokens + "), got " + zeroPoints.length);
        }
        byte[] v = ((Values.Int8) weightT.values()).data();
        int[] acc = new int[Math.multiplyExact(tokens, n)];
        SpmmReference.forEachStored(weightT, (c, kk, j) -> {
            int w = v[j];
            for (int t = 0; t < tokens; t++) {
                int av = (unsigned ? a[t * k + kk] & 0xFF : a[t * k + kk]) - zeroPoints[zeroPoints.length == 1 ? 0 : t];
                acc[t * n + c] += av * w;
            }
        });
        return acc;
    }

    /** The layer's output y [T, N] = act(acc * (sa * sw[n]) + bias[n]); scales per tensor or per row, bias may be null. */
    public static float[] linear(SparseMatrix weightT, byte[] a, boolean unsigned, int[] zeroPoints, float[] scales,
                                 float[] weightScales, float[] bias, Activation activation, int tokens) {
        int[] acc = accumulate(weightT, a, unsigned, zeroPoints, tokens);
        return Int8GemmReference.int8Linear(acc, tokens, weightT.rows(), scales, weightScales, bias, activation);
    }
}
