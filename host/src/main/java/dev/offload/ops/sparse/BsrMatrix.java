package dev.offload.ops.sparse;

/**
 * Block sparse rows with {@code blockRows x blockCols} blocks (1x4, 4x4, 8x8, any R x C), SciPy's layout:
 * block row {@code br} (matrix rows {@code br*R .. br*R+R-1}) stores blocks {@code blockRowPtr[br] ..
 * blockRowPtr[br+1]}; block {@code j} covers columns {@code blockColIdx[j]*C ..} and its values are
 * {@code values[j*R*C ..]}, row-major within the block.
 *
 * <p>Rows and columns need not be multiples of the block: the last block row and column are padded, and
 * padding elements (row >= rows or column >= cols) must be zero. Block columns within a block row need not
 * be sorted and may repeat (repeats add up).
 */
public record BsrMatrix(int rows, int cols, int blockRows, int blockCols, int[] blockRowPtr, int[] blockColIdx,
                        Values values) implements SparseMatrix {

    public BsrMatrix {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        if (blockRows < 1 || blockCols < 1) {
            throw new IllegalArgumentException("BSR block shape must be positive, got " + blockRows + "x" + blockCols);
        }
        int blockRowCount = ceilDiv(rows, blockRows), blockColCount = ceilDiv(cols, blockCols);
        if (blockRowPtr.length != blockRowCount + 1) {
            throw new IllegalArgumentException("BSR blockRowPtr needs ceil(" + rows + "/" + blockRows + ") + 1 = "
                    + (blockRowCount + 1) + " entries, got " + blockRowPtr.length);
        }
        int blocks = blockColIdx.length, blockSize = blockRows * blockCols;
        if ((long) blocks * blockSize != values.length()) {
            throw new IllegalArgumentException("BSR with " + blocks + " blocks of " + blockRows + "x" + blockCols
                    + " needs " + (long) blocks * blockSize + " values, got " + values.length());
        }
        if (blockRowPtr[0] != 0 || blockRowPtr[blockRowCount] != blocks) {
            throw new IllegalArgumentException("BSR blockRowPtr must run from 0 to the block count " + blocks
                    + ", runs from " + blockRowPtr[0] + " to " + blockRowPtr[blockRowCount]);
        }
        for (int br = 0; br < blockRowCount; br++) {
            if (blockRowPtr[br + 1] < blockRowPtr[br]) {
                throw new IllegalArgumentException("BSR blockRowPtr decreases at block row " + br);
            }
            for (int j = blockRowPtr[br]; j < blockRowPtr[br + 1]; j++) {
                int bc = blockColIdx[j];
                if (bc < 0 || bc >= blockColCount) {
                    throw new IllegalArgumentException("BSR block column " + bc + " at block " + j
                            + " is outside [0, " + blockColCount + ")");
                }
                for (int r = 0; r < blockRows; r++) {
                    for (int c = 0; c < blockCols; c++) {
                        boolean padding = br * blockRows + r >= rows || bc * blockCols + c >= cols;
                        if (padding && !values.isZero(j * blockSize + r * blockCols + c)) {
                            throw new IllegalArgumentException("BSR block " + j + " has a non-zero padding element at ("
                                    + r + ", " + c + ") outside the " + rows + "x" + cols + " matrix");
                        }
                    }
                }
            }
        }
    }

    static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    /** Exact conversion: every block holding a non-zero of {@code dense} is stored, in column order. */
    public static BsrMatrix fromDense(DenseMatrix dense, int blockRows, int blockCols) {
        if (blockRows < 1 || blockCols < 1) {
            throw new IllegalArgumentException("BSR block shape must be positive, got " + blockRows + "x" + blockCols);
        }
        int rows = dense.rows(), cols = dense.cols();
        int blockRowCount = ceilDiv(rows, blockRows), blockColCount = ceilDiv(cols, blockCols);
        Values src = dense.values();
        int[] blockRowPtr = new int[blockRowCount + 1];
        var colList = new java.util.ArrayList<Integer>();
        for (int br = 0; br < blockRowCount; br++) {
            for (int bc = 0; bc < blockColCount; bc++) {
                if (blockHasNonZero(dense, br * blockRows, bc * blockCols, blockRows, blockCols)) colList.add(bc);
            }
            blockRowPtr[br + 1] = colList.size();
        }
        int blockSize = blockRows * blockCols;
        int[] blockColIdx = colList.stream().mapToInt(Integer::intValue).toArray();
        Values vals = src.zeros(Math.multiplyExact(blockColIdx.length, blockSize));
        for (int br = 0; br < blockRowCount; br++) {
            for (int j = blockRowPtr[br]; j < blockRowPtr[br + 1]; j++) {
                for (int r = 0; r < blockRows; r++) {
                    int m = br * blockRows + r;
                    for (int c = 0; c < blockCols; c++) {
                        int k = blockColIdx[j] * blockCols + c;
                        if (m < rows && k < cols) src.copy(m * cols + k, vals, j * blockSize + r * blockCols + c);
                    }
                }
            }
        }
        return new BsrMatrix(rows, cols, blockRows, blockCols, blockRowPtr, blockColIdx, vals);
    }

    private static boolean blockHasNonZero(DenseMatrix d, int m0, int k0, int r, int c) {
        for (int m = m0; m < Math.min(m0 + r, d.rows()); m++) {
            for (int k = k0; k < Math.min(k0 + c, d.cols()); k++) {
                if (!d.values().isZero(m * d.cols() + k)) return true;
            }
        }
        return false;
    }

    public int blockCount() { return blockColIdx.length; }

    @Override public String formatName() { return "bsr:" + blockRows + "x" + blockCols; }

    @Override
    public DenseMatrix toDense() {
        Values out = values.zeros(Math.multiplyExact(rows, cols));
        int blockSize = blockRows * blockCols;
        for (int br = 0; br + 1 < blockRowPtr.length; br++) {
            for (int j = blockRowPtr[br]; j < blockRowPtr[br + 1]; j++) {
                for (int r = 0; r < blockRows; r++) {
                    for (int c = 0; c < blockCols; c++) {
                        int m = br * blockRows + r, k = blockColIdx[j] * blockCols + c;
                        if (m < rows && k < cols) values.addTo(j * blockSize + r * blockCols + c, out, m * cols + k);
                    }
                }
            }
        }
        return new DenseMatrix(rows, cols, out);
    }
}
