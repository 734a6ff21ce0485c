package dev.offload.ops.sparse;

/**
 * The plain-Java judge of the spmm kernels: {@code Y[M,N] = S[M,K] x B[K,N]}, computed straight from the
 * sparse format (every stored value, explicit zeros included, in storage order).
 *
 * <ul>
 *   <li>int8 S and B: int32 accumulation with Java's two's-complement wrap-around; bit-exact with the kernels
 *       and with {@link #denseInt8} of the densified matrix (integer addition is associative).</li>
 *   <li>float32: {@code acc = fma(s, b, acc)} in storage order; the kernels may differ by rounding only
 *       (see {@link SpmmTolerance}).</li>
 * </ul>
 * B and Y are row-major.
 */
public final class SpmmReference {
    private SpmmReference() {}

    public static int[] multiplyInt8(SparseMatrix s, byte[] b, int n) {
        checkShapes(s, b.length, n);
        byte[] v = ((Values.Int8) requireType(s, Values.Int8.class)).data();
        int[] y = new int[Math.multiplyExact(s.rows(), n)];
        forEachStored(s, (m, k, j) -> {
            int sv = v[j];
            for (int c = 0; c < n; c++) y[m * n + c] += sv * b[k * n + c];
        });
        return y;
    }

    public static float[] multiplyFloat32(SparseMatrix s, float[] b, int n) {
        checkShapes(s, b.length, n);
        float[] v = ((Values.Float32) requireType(s, Values.Float32.class)).data();
        float[] y = new float[Math.multiplyExact(s.rows(), n)];
        forEachStored(s, (m, k, j) -> {
            float sv = v[j];
            for (int c = 0; c < n; c++) y[m * n + c] = Math.fma(sv, b[k * n + c], y[m * n + c]);
        });
        return y;
    }

    /**
     * The dequantize epilogue: {@code y[m,n] = float(acc[m,n]) * sRow[m] * sB + bias[m]} in float32, evaluated
     * left to right. S's scale is per row (row m of the weight S is output channel m), B's is per tensor;
     * the bias (null for none) is per output channel, length M.
     */
    public static float[] dequantize(int[] acc, int m, int n, float[] rowScales, float bScale, float[] bias) {
        Spmm.checkEpilogue(m, rowScales, bias);
        float[] y = new float[acc.length];
        for (int r = 0; r < m; r++) {
            for (int c = 0; c < n; c++) {
                float v = (float) acc[r * n + c] * rowScales[r] * bScale;
                y[r * n + c] = bias == null ? v : v + bias[r];
            }
        }
        return y;
    }

    /** Dense int8 x int8 -> int32 (wrapping), k ascending: the cross-check for every sparse format. */
    public static int[] denseInt8(DenseMatrix a, byte[] b, int n) {
        byte[] av = ((Values.Int8) a.values()).data();
        int rows = a.rows(), k = a.cols();
        int[] y = new int[Math.multiplyExact(rows, n)];
        for (int m = 0; m < rows; m++) {
            for (int i = 0; i < k; i++) {
                int s = av[m * k + i];
                for (int c = 0; c < n; c++) y[m * n + c] += s * b[i * n + c];
            }
        }
        return y;
    }

    /** Dense float32, k ascending with fma. */
    public static float[] denseFloat32(DenseMatrix a, float[] b, int n) {
        float[] av = ((Values.Float32) a.values()).data();
        int rows = a.rows(), k = a.cols();
        float[] y = new float[Math.multiplyExact(rows, n)];
        for (int m = 0; m < rows; m++) {
            for (int i = 0; i < k; i++) {
                float s = av[m * k + i];
                for (int c = 0; c < n; c++) y[m * n + c] = Math.fma(s, b[i * n + c], y[m * n + c]);
            }
        }
        return y;
    }

    /** One stored value: output row m, column k of S (= row k of B), index j into {@code values}. */
    interface StoredEntry {
        void accept(int m, int k, int j);
    }

    /** Visits every stored value of S, explicit zeros included, in the order the kernels accumulate them. */
    static void forEachStored(SparseMatrix s, StoredEntry visit) {
        switch (s) {
            case CsrMatrix c -> {
                for (int m = 0; m < c.rows(); m++) {
                    for (int j = c.rowPtr()[m]; j < c.rowPtr()[m + 1]; j++) visit.accept(m, c.colIdx()[j], j);
                }
            }
            case BsrMatrix b -> {
                int r = b.blockRows(), cc = b.blockCols();
                for (int m = 0; m < b.rows(); m++) {
                    int br = m / r;
                    for (int j = b.blockRowPtr()[br]; j < b.blockRowPtr()[br + 1]; j++) {
                        for (int c = 0; c < cc; c++) {
                            int k = b.blockColIdx()[j] * cc + c;
                            if (k < b.cols()) visit.accept(m, k, (j * r + m % r) * cc + c);
                        }
                    }
                }
            }
            case Sparse24Matrix t -> {
                int groups = t.groups();
                for (int m = 0; m < t.rows(); m++) {
                    for (int g = 0; g < groups; g++) {
                        int i = m * groups + g;
                        visit.accept(m, 4 * g + (t.indices()[i] & 3), 2 * i);
                        visit.accept(m, 4 * g + ((t.indices()[i] >> 2) & 3), 2 * i + 1);
                    }
                }
            }
        }
    }

    private static Values requireType(SparseMatrix s, Class<? extends Values> type) {
        if (!type.isInstance(s.values())) {
            throw new IllegalArgumentException("S holds " + s.dtype().numpyName() + " values; this multiply needs "
                    + (type == Values.Int8.class ? "int8" : "float32"));
        }
        return s.values();
    }

    static void checkShapes(SparseMatrix s, long bLength, int n) {
        if (n < 0 || (long) s.cols() * n != bLength) {
            throw new IllegalArgumentException("B must be [K=" + s.cols() + ", N=" + n + "] = " + (long) s.cols() * n
                    + " values, got " + bLength);
        }
    }
}
