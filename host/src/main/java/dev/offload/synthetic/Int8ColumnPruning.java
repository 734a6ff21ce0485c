package dev.offload.synthetic;

import java.util.Arrays;

/**
 * Magnitude pruning of the synthetic models' int8 weights [K, N] (row-major), per output column so every channel
 * keeps its share. Not {@link dev.offload.ops.sparse.Pruning}: that one prunes float/int8 matrices per row with the
 * opposite tie rule, and the synthetic models' weights (and so their checked outputs) are fixed by this one.
 */
final class Int8ColumnPruning {
    private Int8ColumnPruning() {}

    /** Zeroes the round(sparsity * K) smallest-magnitude weights of each column (ties: the later rows go first). */
    static void magnitude(byte[] w, int k, int n, double sparsity) {
        int drop = (int) Math.round(sparsity * k);
        if (drop == 0) return;
        Integer[] order = new Integer[k];
        for (int c = 0; c < n; c++) {
            final int col = c;
            for (int r = 0; r < k; r++) order[r] = r;
            Arrays.sort(order, (a, b) -> Integer.compare(Math.abs(w[a * n + col]), Math.abs(w[b * n + col])));
            for (int i = 0; i < drop; i++) w[order[i] * n + col] = 0;
        }
    }

    /** 2:4 structured sparsity along K: in each group of four rows of a column, the two smallest become zero. */
    static void twoFour(byte[] w, int k, int n) {
        for (int c = 0; c < n; c++) {
            for (int g = 0; g + 4 <= k; g += 4) {
                int[] rows = {g, g + 1, g + 2, g + 3};
                final int col = c;
                Integer[] order = {0, 1, 2, 3};
                Arrays.sort(order, (a, b) -> Integer.compare(Math.abs(w[rows[a] * n + col]), Math.abs(w[rows[b] * n + col])));
                w[rows[order[0]] * n + c] = 0;
                w[rows[order[1]] * n + c] = 0;
            }
        }
    }
}
