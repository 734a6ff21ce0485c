package dev.offload.ops.gemm;

/**
 * The pure-Java judge of the INT8 GEMM: plain loops, no cleverness. Java int arithmetic wraps in 32 bits
 * exactly like the kernel's accumulators.
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
        int[] bz = new int[k * n];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bz[p * n + j] = b.at(p, j) - zb.at(p, j);
        int[] c = new int[m * n];
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
        float[] y = new float[rows * cols];
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

    /** The requantize epilogue: (float) C * scale in float, round half to even, add the zero point, saturate. */
    public static byte[] requantize(int[] c, int rows, int cols, Epilogue.Requantize r) {
        r.check(rows, cols);
        byte[] q = new byte[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float v = (float) c[i * cols + j] * r.scale()[r.scale().length == 1 ? 0 : j];
                long rounded = (long) Math.rint(v);
                q[i * cols + j] = (byte) r.type().saturate(rounded + r.zeroPoint());
            }
        }
        return q;
    }
}
