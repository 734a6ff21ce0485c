package dev.offload.compress;

import java.util.Arrays;

/**
 * Block sparsity for BSR kernels: W^T [N, K] (output channels x inputs) is cut into blocks of R channels x C inputs,
 * each ranked by the squared norm of its dequantized weights (w * the channel's scale, so that channels of different
 * scales compare fairly); the weakest {@code round(sparsity * blocks)} blocks of the matrix become zero. Ties keep
 * the earlier block. The ranking is per matrix, not per block row: a block row may lose all its blocks, which BSR
 * stores as an empty row.
 */
final class BlockPruning {
    private BlockPruning() {}

    /** {@code weight} [K, N] with its weakest blocks zeroed, same layout; N % R == 0 and K % C == 0. */
    static byte[] prune(byte[] weight, float[] scale, int k, int n, int r, int c, double sparsity) {
        if (n % r != 0 || k % c != 0) throw new IllegalArgumentException("block " + r + "x" + c + " does not divide a " + n + "x" + k + " weight");
        int blockRows = n / r, blockCols = k / c, blocks = blockRows * blockCols;
        double[] norm = new double[blocks];
        for (int kk = 0; kk < k; kk++) {
            for (int j = 0; j < n; j++) {
                double w = weight[kk * n + j] * (double) scale[j];
                norm[(j / r) * blockCols + kk / c] += w * w;
            }
        }
        Integer[] order = new Integer[blocks];
        for (int b = 0; b < blocks; b++) order[b] = b;
        // The weakest first; among equal norms the later block first, so that a tie keeps the earlier one.
        Arrays.sort(order, (a, b) -> norm[a] != norm[b] ? Double.compare(norm[a], norm[b]) : Integer.compare(b, a));
        int drop = (int) Math.round(sparsity * blocks);
        boolean[] dropped = new boolean[blocks];
        for (int i = 0; i < drop; i++) dropped[order[i]] = true;
        byte[] out = weight.clone();
        for (int kk = 0; kk < k; kk++) {
            for (int j = 0; j < n; j++) if (dropped[(j / r) * blockCols + kk / c]) out[kk * n + j] = 0;
        }
        return out;
    }

    /** Blocks of {@code weight} [K, N] that are all zero (for the pattern checks). */
    static int zeroBlocks(byte[] weight, int k, int n, int r, int c) {
        int zero = 0;
        for (int br = 0; br < n / r; br++) {
            for (int bc = 0; bc < k / c; bc++) {
                boolean all = true;
                for (int j = br * r; j < br * r + r && all; j++) for (int kk = bc * c; kk < bc * c + c && all; kk++) all = weight[kk * n + j] == 0;
                if (all) zero++;
            }
        }
        return zero;
    }
}
