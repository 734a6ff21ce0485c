package dev.offload.ops.sparse;

import dev.offload.tensor.DType;

/**
 * A sparse [rows, cols] matrix S in one of the storage formats the spmm kernels read. In
 * {@code Y = S x B} S is the (pruned) weight: row m of S is output channel m.
 */
public sealed interface SparseMatrix permits CsrMatrix, BsrMatrix, Sparse24Matrix {

    int rows();

    int cols();

    /** The stored values (explicit zeros included: padding in blocks, empty slots in 2:4 groups). */
    Values values();

    default DType dtype() { return values().dtype(); }

    /** The name the CLI uses: {@code csr}, {@code bsr:4x4}, {@code 2:4}. */
    String formatName();

    /** The multiply-adds one output column costs: stored values, which is what the kernel iterates. */
    default long storedValues() { return values().length(); }

    /** Non-zero stored values (entries that equal zero, explicit or padding, are not counted). */
    default long nonZeros() {
        long n = 0;
        Values v = values();
        for (int i = 0; i < v.length(); i++) if (!v.isZero(i)) n++;
        return n;
    }

    /** 1 - nonZeros / (rows * cols); 0 for an empty shape. */
    default double sparsity() {
        long total = (long) rows() * cols();
        return total == 0 ? 0 : 1.0 - (double) nonZeros() / total;
    }

    /** The same matrix as a dense row-major array (duplicate entries, allowed in CSR and BSR, add up). */
    DenseMatrix toDense();
}
