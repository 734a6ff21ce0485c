package dev.offload.ops.sparse;

import java.util.Arrays;

/**
 * Magnitude pruning of dense weights: zeroes the smallest |values| and returns a dense matrix that the
 * exact conversions ({@link CsrMatrix#fromDense}, ...) then store.
 *
 * <p>Pruning is per row (per output channel), not global: every row keeps the same number of values,
 * which keeps the work of the row-parallel kernels balanced and never empties a channel whose weights are
 * small in absolute terms. Ties in |value| are broken by column: the lower column index is kept.
 */
public final class Pruning {
    private Pruning() {}

    /**
     * Keeps the {@code round((1 - sparsity) * cols)} largest |values| of every row (fewer where a row has
     * fewer non-zeros) and zeroes the rest.
     *
     * @param sparsity the fraction of each row to zero, in [0, 1] (0.9 keeps the largest 10%)
     */
    public static DenseMatrix magnitude(DenseMatrix dense, double sparsity) {
        if (!(sparsity >= 0 && sparsity <= 1)) {
            throw new IllegalArgumentException("sparsity must be in [0, 1], got " + sparsity);
        }
        int rows = dense.rows(), cols = dense.cols();
        int keep = (int) Math.round((1 - sparsity) * cols);
        Values src = dense.values(), out = src.zeros(src.length());
        for (int m = 0; m < rows; m++) {
            final int base = m * cols;
            Integer[] order = new Integer[cols];
            for (int k = 0; k < cols; k++) order[k] = k;
            // Largest magnitude first; equal magnitudes in column order (Arrays.sort on objects is stable).
            Arrays.sort(order, (a, b) -> Double.compare(src.magnitude(base + b), src.magnitude(base + a)));
            for (int r = 0; r < keep; r++) src.copy(base + order[r], out, base + order[r]);
        }
        return new DenseMatrix(rows, cols, out);
    }

    /**
     * Keeps the 2 largest |values| in every group of 4 columns of a row (the last, partial group keeps at
     * most 2 of its real columns); the result converts exactly with {@link Sparse24Matrix#fromDense}.
     */
    public static DenseMatrix twoFour(DenseMatrix dense) {
        int rows = dense.rows(), cols = dense.cols();
        Values src = dense.values(), out = src.zeros(src.length());
        for (int m = 0; m < rows; m++) {
            for (int k0 = 0; k0 < cols; k0 += 4) {
                int real = Math.min(4, cols - k0);
                int first = -1, second = -1;
                for (int p = 0; p < real; p++) {
                    int i = m * cols + k0 + p;
                    // Strictly greater: on a tie the earlier (lower) column stays ahead.
                    if (first < 0 || src.magnitude(i) > src.magnitude(first)) { second = first; first = i; }
                    else if (second < 0 || src.magnitude(i) > src.magnitude(second)) second = i;
                }
                src.copy(first, out, first);
                if (second >= 0) src.copy(second, out, second);
            }
        }
        return new DenseMatrix(rows, cols, out);
    }
}
