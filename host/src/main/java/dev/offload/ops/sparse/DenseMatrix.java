package dev.offload.ops.sparse;

import dev.offload.tensor.DType;

/** A row-major [rows, cols] matrix: the input of the sparse conversions and the form every format densifies to. */
public record DenseMatrix(int rows, int cols, Values values) {

    public DenseMatrix {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        if ((long) rows * cols != values.length()) {
            throw new IllegalArgumentException("a [" + rows + ", " + cols + "] matrix needs " + (long) rows * cols
                    + " values, got " + values.length());
        }
    }

    public static DenseMatrix ofInt8(int rows, int cols, byte[] data) {
        return new DenseMatrix(rows, cols, new Values.Int8(data));
    }

    public static DenseMatrix ofFloat32(int rows, int cols, float[] data) {
        return new DenseMatrix(rows, cols, new Values.Float32(data));
    }

    public DType dtype() { return values.dtype(); }

    /** The number of non-zero elements. */
    public long nonZeros() {
        long n = 0;
        for (int i = 0; i < values.length(); i++) if (!values.isZero(i)) n++;
        return n;
    }
}
