package dev.offload.ops.sparse;

import java.util.Arrays;

/**
 * Magnitude pruning of dense weights: zeroes the smallest |values| and returns a dense matrix that the
 * exact conversions ({@link CsrMatrix#fromDense}, ...) then store.
 *
 * <p>Pruning is per row (per output channel), not global: every row keeps the same number of values,
 * which keeps the work of the row-parallel kernels balanced and never empties a channel whose weights are
 * small in absolute terms. Ties in |value| are broken by column: the lower column index is kept. {@link #blocks}
 * prunes whole blocks the same way, per block row.
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

    /** How a block's weights are summed into the one number block pruning ranks it by. */
    public enum BlockNorm {
        /** sum |w| */
        L1,
        /** sqrt(sum w^2) (ranked by sum w^2, the same order) */
        L2
    }

    /**
     * Block magnitude pruning for BSR: the matrix [rows, cols] (rows = output channels) in blocks of
     * {@code blockRows x blockCols} (the last block row and column may be partial); in every block row keeps the
     * {@code round((1 - sparsity) * ceil(cols / blockCols))} blocks of largest norm and zeroes the others whole, so
     * every block row keeps the same number of blocks (balanced work, no emptied channel group). A block's norm
     * counts its real elements only; ties go to the lower block column. The result converts exactly with
     * {@link BsrMatrix#fromDense} at the same block shape, at most that many blocks per block row (an all-zero kept
     * block is not stored). The element sparsity is {@code sparsity} up to the rounding of the block count and a
     * partial last block column.
     *
     * @param sparsity the fraction of each block row's blocks to zero, in [0, 1]
     */
    public static DenseMatrix blocks(DenseMatrix dense, int blockRows, int blockCols, double sparsity, BlockNorm norm) {
        if (!(sparsity >= 0 && sparsity <= 1)) {
            throw new IllegalArgumentException("sparsity must be in [0, 1], got " + sparsity);
        }
        if (blockRows < 1 || blockCols < 1) {
            throw new IllegalArgumentException("block shape must be positive, got " + blockRows + "x" + blockCols);
        }
        int rows = dense.rows(), cols = dense.cols();
        int blockColCount = BsrMatrix.ceilDiv(cols, blockCols);
        int keep = (int) Math.round((1 - sparsity) * blockColCount);
        Values src = dense.values(), out = src.zeros(src.length());
        for (int r0 = 0; r0 < rows; r0 += blockRows) {
            int r1 = Math.min(rows, r0 + blockRows);
            double[] score = new double[blockColCount];
            for (int m = r0; m < r1; m++) {
                for (int k = 0; k < cols; k++) {
                    double v = src.magnitude(m * cols + k);
                    score[k / blockCols] += norm == BlockNorm.L1 ? v : v * v;
                }
            }
            Integer[] order = new Integer[blockColCount];
            for (int b = 0; b < blockColCount; b++) order[b] = b;
            // Largest norm first; equal norms in block column order (Arrays.sort on objects is stable).
            Arrays.sort(order, (a, b) -> Double.compare(score[b], score[a]));
            for (int i = 0; i < keep; i++) {
                int k0 = order[i] * blockCols, k1 = Math.min(cols, k0 + blockCols);
                for (int m = r0; m < r1; m++) for (int k = k0; k < k1; k++) src.copy(m * cols + k, out, m * cols + k);
            }
        }
        return new DenseMatrix(rows, cols, out);
    }
}
