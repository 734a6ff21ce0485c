package dev.offload.ops.sparse;

/**
 * Compressed sparse rows (unstructured sparsity), SciPy's layout: the entries of row m are
 * {@code colIdx[rowPtr[m] .. rowPtr[m+1])} with their {@code values}. Column indices within a row need
 * not be sorted and may repeat (repeats add up, as in SciPy); {@link #fromDense} writes them sorted and unique.
 */
public record CsrMatrix(int rows, int cols, int[] rowPtr, int[] colIdx, Values values) implements SparseMatrix {

    public CsrMatrix {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        if (rowPtr.length != rows + 1) {
            throw new IllegalArgumentException("CSR rowPtr needs rows + 1 = " + (rows + 1) + " entries, got " + rowPtr.length);
        }
        if (colIdx.length != values.length()) {
            throw new IllegalArgumentException("CSR has " + colIdx.length + " column indices but " + values.length() + " values");
        }
        if (rowPtr[0] != 0 || rowPtr[rows] != colIdx.length) {
            throw new IllegalArgumentException("CSR rowPtr must run from 0 to nnz = " + colIdx.length
                    + ", runs from " + rowPtr[0] + " to " + rowPtr[rows]);
        }
        for (int m = 0; m < rows; m++) {
            if (rowPtr[m + 1] < rowPtr[m]) {
                throw new IllegalArgumentException("CSR rowPtr decreases at row " + m + " (" + rowPtr[m] + " -> " + rowPtr[m + 1] + ")");
            }
        }
        for (int j = 0; j < colIdx.length; j++) {
            if (colIdx[j] < 0 || colIdx[j] >= cols) {
                throw new IllegalArgumentException("CSR column index " + colIdx[j] + " at entry " + j
                        + " is outside [0, " + cols + ")");
            }
        }
    }

    /** Exact conversion: every non-zero of {@code dense} is stored, in column order. */
    public static CsrMatrix fromDense(DenseMatrix dense) {
        int rows = dense.rows(), cols = dense.cols();
        Values src = dense.values();
        int nnz = Math.toIntExact(dense.nonZeros());
        int[] rowPtr = new int[rows + 1];
        int[] colIdx = new int[nnz];
        Values vals = src.zeros(nnz);
        int j = 0;
        for (int m = 0; m < rows; m++) {
            for (int k = 0; k < cols; k++) {
                int i = m * cols + k;
                if (src.isZero(i)) continue;
                colIdx[j] = k;
                src.copy(i, vals, j);
                j++;
            }
            rowPtr[m + 1] = j;
        }
        return new CsrMatrix(rows, cols, rowPtr, colIdx, vals);
    }

    @Override public String formatName() { return "csr"; }

    @Override
    public DenseMatrix toDense() {
        Values out = values.zeros(Math.multiplyExact(rows, cols));
        for (int m = 0; m < rows; m++) {
            for (int j = rowPtr[m]; j < rowPtr[m + 1]; j++) values.addTo(j, out, m * cols + colIdx[j]);
        }
        return new DenseMatrix(rows, cols, out);
    }
}
