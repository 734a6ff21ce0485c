package dev.offload.ops.gemm;

import java.util.Arrays;

/**
 * A zero point of a GEMM operand: one value for the whole tensor, one per row of A, or one per column of B
 * (ONNX MatMulInteger allows per-row a_zero_point of shape [M] and per-column b_zero_point of shape [N]).
 * Values are plain ints: within the operand type's range for ONNX, but any int computes.
 */
public sealed interface ZeroPoint {
    /** The zero point that applies to row {@code row} (of A) or column {@code col} (of B). */
    int at(int row, int col);

    static ZeroPoint scalar(int value) { return new Scalar(value); }

    static ZeroPoint perRow(int... values) { return new PerRow(values.clone()); }

    static ZeroPoint perColumn(int... values) { return new PerColumn(values.clone()); }

    record Scalar(int value) implements ZeroPoint {
        @Override public int at(int row, int col) { return value; }
    }

    record PerRow(int[] values) implements ZeroPoint {
        @Override public int at(int row, int col) { return values[row]; }

        @Override public String toString() { return "PerRow" + Arrays.toString(values); }
    }

    record PerColumn(int[] values) implements ZeroPoint {
        @Override public int at(int row, int col) { return values[col]; }

        @Override public String toString() { return "PerColumn" + Arrays.toString(values); }
    }

    /** Checks that this can be A's zero point for {@code rows} rows: a scalar or [rows] per row. */
    default void checkForA(int rows) {
        switch (this) {
            case Scalar s -> { }
            case PerRow p -> {
                if (p.values().length != rows) throw new IllegalArgumentException(
                        "A zero point has " + p.values().length + " values but A has " + rows + " rows");
            }
            case PerColumn p -> throw new IllegalArgumentException(
                    "A's zero point must be a scalar or per row ([M]), not per column");
        }
    }

    /** Checks that this can be B's zero point for {@code cols} columns: a scalar or [cols] per column. */
    default void checkForB(int cols) {
        switch (this) {
            case Scalar s -> { }
            case PerColumn p -> {
                if (p.values().length != cols) throw new IllegalArgumentException(
                        "B zero point has " + p.values().length + " values but B has " + cols + " columns");
            }
            case PerRow p -> throw new IllegalArgumentException(
                    "B's zero point must be a scalar or per column ([N]), not per row");
        }
    }
}
