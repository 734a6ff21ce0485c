package dev.offload.compress;

import dev.offload.model.QuantizedLinear;
import dev.offload.ops.sparse.DenseMatrix;
import dev.offload.ops.sparse.Pruning;
import dev.offload.ops.sparse.Values;

/**
 * Magnitude, 2:4 and block pruning of one int8 linear: the weight keeps its shape [K, N] and gets zeros. Magnitude
 * and 2:4 are dev.offload.ops.sparse.Pruning's, per output channel (a row of W^T [N, K], which is how the sparse
 * kernels store the weight); block pruning is {@link BlockPruning}. Only symmetric weights (every zero point 0) can
 * be pruned: there a zero byte is a zero weight.
 */
final class UnstructuredPruning {
    private UnstructuredPruning() {}

    static QuantizedLinear prune(QuantizedLinear q, CompressionSpec spec, String name) {
        if (q.zeroPoint() != null) {
            for (int j = 0; j < q.outputs(); j++) {
                if (q.zeroPoint(j) != 0) throw new IllegalArgumentException(name + " has asymmetric int8 weights (zero point " + q.zeroPoint(j) + "): cannot prune");
            }
        }
        int k = q.inputs(), n = q.outputs();
        byte[] pruned = switch (spec.method()) {
            case BLOCK -> BlockPruning.prune(q.weight(), q.scale(), k, n, spec.blockRows(), spec.blockCols(), spec.target());
            case MAGNITUDE -> transposed(Pruning.magnitude(DenseMatrix.ofInt8(n, k, transpose(q.weight(), k, n)), spec.target()), n, k);
            case TWO_FOUR -> transposed(Pruning.twoFour(DenseMatrix.ofInt8(n, k, transpose(q.weight(), k, n))), n, k);
            default -> throw new IllegalArgumentException(spec.method() + " is not an unstructured pruning");
        };
        return new QuantizedLinear(k, n, pruned, q.scale(), q.zeroPoint(), q.bias());
    }

    /** [rows, cols] row-major to [cols, rows]. */
    static byte[] transpose(byte[] a, int rows, int cols) {
        byte[] t = new byte[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    private static byte[] transposed(DenseMatrix m, int rows, int cols) {
        return transpose(((Values.Int8) m.values()).data(), rows, cols);
    }
}
