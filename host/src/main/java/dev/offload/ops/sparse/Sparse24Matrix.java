package dev.offload.ops.sparse;

/**
 * 2:4 structured sparsity: in every group of 4 consecutive columns of a row at most 2 values are non-zero.
 * Row m has {@code groups = ceil(cols / 4)} groups; group g covers columns {@code 4g .. 4g+3} (the last group
 * of a row is padded when cols is not a multiple of 4: its missing columns count as zeros).
 *
 * <ul>
 *   <li>{@code values}: [rows][groups * 2], the two kept values of each group (a zero where a group has fewer
 *       than two non-zeros).</li>
 *   <li>{@code indices}: [rows][groups], one byte per group: bits 0-1 are the position (0..3) of the first
 *       kept value within its group, bits 2-3 the position of the second, bits 4-7 zero.</li>
 * </ul>
 * Positions always name real columns ({@code 4g + position < cols}) so a kernel never reads past the matrix
 * B; the first position is below the second, except in a last group with a single real column, where both
 * are 0 and the second value is zero.
 */
public record Sparse24Matrix(int rows, int cols, Values values, byte[] indices) implements SparseMatrix {

    public Sparse24Matrix {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        int groups = groups(cols);
        if ((long) rows * groups != indices.length || (long) rows * groups * 2 != values.length()) {
            throw new IllegalArgumentException("2:4 [" + rows + ", " + cols + "] needs " + (long) rows * groups
                    + " index bytes and " + (long) rows * groups * 2 + " values, got " + indices.length + " and " + values.length());
        }
        for (int m = 0; m < rows; m++) {
            for (int g = 0; g < groups; g++) {
                int i = m * groups + g, p0 = indices[i] & 3, p1 = (indices[i] >> 2) & 3;
                int real = Math.min(4, cols - 4 * g);
                boolean ok = (indices[i] & 0xF0) == 0 && p1 < real
                        && (p0 < p1 || (real == 1 && p0 == 0 && p1 == 0 && values.isZero(2 * i + 1)));
                if (!ok) {
                    throw new IllegalArgumentException("2:4 index byte 0x" + Integer.toHexString(indices[i] & 0xFF)
                            + " of row " + m + ", group " + g + " is invalid (positions must rise and name one of the "
                            + real + " real columns of the group)");
                }
            }
        }
    }

    /** Groups per row: ceil(cols / 4). */
    public static int groups(int cols) { return (cols + 3) / 4; }

    public int groups() { return groups(cols); }

    /**
     * Exact conversion of a matrix that already is 2:4.
     *
     * @throws IllegalArgumentException naming the first row and group with more than two non-zeros
     */
    public static Sparse24Matrix fromDense(DenseMatrix dense) {
        int rows = dense.rows(), cols = dense.cols(), groups = groups(cols);
        Values src = dense.values();
        Values vals = src.zeros(Math.multiplyExact(rows, groups * 2));
        byte[] idx = new byte[rows * groups];
        for (int m = 0; m < rows; m++) {
            for (int g = 0; g < groups; g++) {
                int real = Math.min(4, cols - 4 * g);
                int[] slots = new int[2];
                int used = 0;
                for (int p = 0; p < real; p++) {
                    if (src.isZero(m * cols + 4 * g + p)) continue;
                    if (used == 2) {
                        throw new IllegalArgumentException("matrix is not 2:4 sparse: row " + m + ", group " + g
                                + " (columns " + 4 * g + ".." + (4 * g + real - 1) + ") has more than 2 non-zeros;"
                                + " prune it first (Pruning.twoFour, or --prune 2:4 on the command line)");
                    }
                    slots[used++] = p;
                }
                // Fill empty slots with the lowest unused real positions (their values stay zero).
                for (int p = 0; used < 2 && p < real; p++) {
                    if (used == 1 && slots[0] == p) continue;
                    slots[used++] = p;
                }
                if (used == 1) slots[1] = slots[0];      // a single real column: both slots name it
                if (slots[1] < slots[0]) { int t = slots[0]; slots[0] = slots[1]; slots[1] = t; }
                int i = m * groups + g;
                idx[i] = (byte) (slots[0] | slots[1] << 2);
                for (int s = 0; s < 2; s++) {
                    if (s == 1 && slots[1] == slots[0]) break;
                    src.copy(m * cols + 4 * g + slots[s], vals, 2 * i + s);
                }
            }
        }
        return new Sparse24Matrix(rows, cols, vals, idx);
    }

    @Override public String formatName() { return "2:4"; }

    @Override
    public DenseMatrix toDense() {
        int groups = groups();
        Values out = values.zeros(Math.multiplyExact(rows, cols));
        for (int m = 0; m < rows; m++) {
            for (int g = 0; g < groups; g++) {
                int i = m * groups + g;
                values.addTo(2 * i, out, m * cols + 4 * g + (indices[i] & 3));
                values.addTo(2 * i + 1, out, m * cols + 4 * g + ((indices[i] >> 2) & 3));
            }
        }
        return new DenseMatrix(rows, cols, out);
    }
}
