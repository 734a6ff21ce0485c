package dev.offload.ops.quant;

import java.util.Arrays;

/**
 * Scales and zero points of a quantized [rows][cols] tensor: one pair for the whole tensor, one per row,
 * or one per column. Real value = (q - zeroPoint) * scale.
 */
public record QuantParams(Axis axis, float[] scale, int[] zeroPoint) {
    /** Which elements share a parameter pair; the ordinal is quantize.cl's {@code axis} argument (0, 1, 2). */
    public enum Axis { TENSOR, ROW, COLUMN }

    public QuantParams {
        if (scale.length != zeroPoint.length) {
            throw new IllegalArgumentException(scale.length + " scales but " + zeroPoint.length + " zero points");
        }
        if (axis == Axis.TENSOR && scale.length != 1) {
            throw new IllegalArgumentException("per-tensor parameters need 1 scale, got " + scale.length);
        }
    }

    public static QuantParams perTensor(float scale, int zeroPoint) {
        return new QuantParams(Axis.TENSOR, new float[] {scale}, new int[] {zeroPoint});
    }

    public static QuantParams perRow(float[] scale, int[] zeroPoint) { return new QuantParams(Axis.ROW, scale, zeroPoint); }

    public static QuantParams perColumn(float[] scale, int[] zeroPoint) { return new QuantParams(Axis.COLUMN, scale, zeroPoint); }

    /** Checks the parameter count against a [rows][cols] tensor. */
    public void check(int rows, int cols) {
        int want = switch (axis) { case TENSOR -> 1; case ROW -> rows; case COLUMN -> cols; };
        if (scale.length != want) {
            throw new IllegalArgumentException(axis + " parameters for a " + rows + "x" + cols + " tensor need "
                    + want + " scales, got " + scale.length);
        }
    }

    /** The parameter index for element (row, col). */
    public int index(int row, int col) {
        return switch (axis) { case TENSOR -> 0; case ROW -> row; case COLUMN -> col; };
    }

    @Override public String toString() {
        return "QuantParams[" + axis + ", scale=" + Arrays.toString(scale) + ", zeroPoint=" + Arrays.toString(zeroPoint) + "]";
    }
}
