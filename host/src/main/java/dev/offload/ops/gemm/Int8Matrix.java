package dev.offload.ops.gemm;

import dev.offload.ops.quant.QuantType;

/** A row-major [rows][cols] matrix of int8 or uint8 values, as the bytes NumPy stores them. */
public record Int8Matrix(QuantType type, int rows, int cols, byte[] data) {
    public Int8Matrix {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("matrix must be at least 1x1, got " + rows + "x" + cols);
        if ((long) rows * cols != data.length) {
            throw new IllegalArgumentException(rows + "x" + cols + " matrix needs " + (long) rows * cols
                    + " bytes, got " + data.length);
        }
    }

    /** The value at (row, col). */
    public int at(int row, int col) { return type.value(data[row * cols + col]); }

    public String shape() { return rows + "x" + cols + " " + type.name().toLowerCase(java.util.Locale.ROOT); }
}
