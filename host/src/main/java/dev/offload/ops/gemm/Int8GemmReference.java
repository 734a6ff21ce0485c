package dev.offload.ops.gemm;

import dev.offload.limits.Sizes;
import dev.offload.math.ParallelRows;

/**
 * The pure-Java definition of the linear layers: the int8 GEMM (ONNX MatMulInteger) with its epilogues, and the
 * graph's linear ops, int8 ({@link #int8Linear}) and float32 ({@link #fp32Linear}). The judge of {@link Int8Gemm}
 * (validator and tests), the java device's implementation ({@link LinearJava}) and the encoder reference's linear
 * layers. Java int arithmetic wraps in 32 bits exactly like the kernel's accumulators, so the int32 products are
 * exact; the epilogue comes in two roundings: {@link #dequantize} in double, rounded once (the accuracy judge of any
 * kernel), and {@link #int8Linear}'s in float32 in the kernel's and ONNX Runtime's order (acc * (sa * sw) + bias),
 * which an int8 linear on OpenCL and ONNX Runtime's MatMulInteger + Mul + Add reproduce bit for bit.
 */
public final class Int8GemmReference {
    private Int8GemmReference() {}

    /** ONNX MatMulInteger: C[m,n] = sum_k (A[m,k] - za) * (B[k,n] - zb), int32 wrapping. */
    public static int[] matmulInteger(Int8Matrix a, ZeroPoint za, Int8Matrix b, ZeroPoint zb) {
        if (a.cols() != b.rows()) {
            throw new IllegalArgumentException("A is " + a.shape() + ", B is " + b.shape() + ": K differs");
        }
        za.checkForA(a.rows());
        zb.checkForB(b.cols());
        int m = a.rows(), n = b.cols(), k = a.cols();
        // Subtract the zero points once, then an i-k-j loop (row-major friendly; about 5 GOPS in C2).
        int[] bz = new int[Sizes.arrayLength("B (K x N)", k, n)];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bz[p * n + j] = b.at(p, j) - zb.at(p, j);
        int[] c = new int[Sizes.arrayLength("C (M x N)", m, n)];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                int av = a.at(i, p) - za.at(i, p);
                for (int j = 0; j < n; j++) c[i * n + j] += av * bz[p * n + j];
            }
        }
        return c;
    }

    /** The dequantize epilogue, computed in double and rounded to float once. */
    public static float[] dequantize(int[] c, int rows, int cols, Epilogue.Dequantize d) {
        d.check(rows, cols);
        float[] y = new float[Sizes.arrayLength("the dequantized output", rows, cols)];
        for (int i = 0; i < rows; i++) {
            double sa = d.activationScale()[d.activationScale().length == 1 ? 0 : i];
            for (int j = 0; j < cols; j++) {
                double v = c[i * cols + j] * sa * d.weightScale()[d.weightScale().length == 1 ? 0 : j];
                if (d.bias() != null) v += d.bias()[j];
                y[i * cols + j] = (float) d.activation().apply(v);
            }
        }
        return y;
    }

    /**
     * The requantize epilogue: (float) C * scale in float, round half to even, add the zero point, saturate. The
     * rounded value is held to +-65536 first, as the kernel holds it, so that an infinite product saturates (a NaN one
     * counts as 0) instead of wrapping the long sum.
     */
    public static byte[] requantize(int[] c, int rows, int cols, Epilogue.Requantize r) {
        r.check(rows, cols);
        byte[] q = new byte[Sizes.arrayLength("the requantized output", rows, cols)];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float v = (float) c[i * cols + j] * r.scale()[r.scale().length == 1 ? 0 : j];
                long rounded = (long) Math.clamp(Math.rint(v), -65536.0, 65536.0);
                q[i * cols + j] = (byte) r.type().saturate(rounded + r.zeroPoint());
            }
        }
        return q;
    }

    /**
     * Weights widened to int and shifted by their zero points (per column, or none), once per layer: C2 vectorizes
     * int multiply-adds but not byte-to-int ones, which makes {@link #accumulate} several times faster on big layers.
     */
    public static int[] widen(byte[] weight, byte[] weightZeroPoints, int n) {
        int[] zeroPoints = null;
        if (weightZeroPoints != null) {
            zeroPoints = new int[n];
            for (int j = 0; j < n; j++) zeroPoints[j] = weightZeroPoints[j];
        }
        return widen(weight, zeroPoints, n);
    }

    /** {@link #widen(byte[], byte[], int)} with int zero points (null: none). */
    public static int[] widen(byte[] weight, int[] weightZeroPoints, int n) {
        int[] w = new int[weight.length];
        for (int i = 0; i < weight.length; i++) w[i] = weight[i] - (weightZeroPoints == null ? 0 : weightZeroPoints[i % n]);
        return w;
    }

    /** Rows accumulated together: each weight row is loaded once per block instead of once per row. */
    private static final int ROW_BLOCK = 8;

    /**
     * MatMulInteger of an activation (int8, or uint8 when {@code unsigned}) with zero points per tensor ([1]) or per
     * row, and weights from {@link #widen}: acc[m, n] = sum_k (a[m, k] - zpA(m)) * w[k, n], int32 wrapping.
     */
    public static int[] accumulate(byte[] a, boolean unsigned, int[] zeroPoints, int[] w, int m, int k, int n) {
        int[] acc = new int[Sizes.arrayLength("the int32 accumulator (M x N)", m, n)];
        int blocks = (m + ROW_BLOCK - 1) / ROW_BLOCK;
        ParallelRows.of(blocks, (long) ROW_BLOCK * k * n).forEach(blk -> {
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

    /**
     * The graph's int8 linear: y = act(acc * (scaleA * scaleW[n]) + bias[n]) over {@link #accumulate}'s products, in
     * float32 (activation scales per tensor ([1]) or per row; bias may be null).
     */
    public static float[] int8Linear(int[] acc, int m, int n, float[] scalesA, float[] scalesW, float[] bias, Activation act) {
        float[] y = new float[Sizes.arrayLength("the linear output (M x N)", m, n)];
        for (int r = 0; r < m; r++) {
            float sa = scalesA[scalesA.length == 1 ? 0 : r];
            for (int j = 0; j < n; j++) {
                float v = acc[r * n + j] * (sa * scalesW[j]) + (bias == null ? 0 : bias[j]);
                y[r * n + j] = act == Activation.NONE ? v : (float) act.apply(v);
            }
        }
        return y;
    }

    /** The graph's float32 linear: y = act(x W + bias), W [K, N] row-major, each output a float sum over k in order. */
    public static float[] fp32Linear(float[] x, float[] w, float[] bias, Activation act, int m, int k, int n) {
        float[] y = new float[Sizes.arrayLength("the linear output (M x N)", m, n)];
        ParallelRows.of(m, (long) k * n).forEach(r -> {
            float[] acc = new float[n];
            for (int kk = 0; kk < k; kk++) {
                float xv = x[r * k + kk];
                int wo = kk * n;
                for (int j = 0; j < n; j++) acc[j] += xv * w[wo + j];
            }
            for (int j = 0; j < n; j++) y[r * n + j] = (float) act.apply(acc[j] + (bias == null ? 0 : bias[j]));
        });
        return y;
    }
}
