package dev.offload.ops.quant;

import dev.offload.tensor.DType;

/** The two 8-bit integer element types of quantized tensors, with their value ranges. */
public enum QuantType {
    INT8(-128, 127),
    UINT8(0, 255);

    private final int min;
    private final int max;

    QuantType(int min, int max) {
        this.min = min;
        this.max = max;
    }

    public int min() { return min; }

    public int max() { return max; }

    /** The integer a stored byte stands for. */
    public int value(byte stored) { return this == INT8 ? stored : stored & 0xFF; }

    /** Clamps to the type's range (saturation). */
    public int saturate(long v) { return (int) Math.max(min, Math.min(max, v)); }

    public DType dtype() { return this == INT8 ? DType.INT8 : DType.UINT8; }

    /** The quantized type a .npy dtype holds, or null for any other dtype. */
    public static QuantType of(DType dtype) {
        return switch (dtype) {
            case INT8 -> INT8;
            case UINT8 -> UINT8;
            default -> null;
        };
    }
}
