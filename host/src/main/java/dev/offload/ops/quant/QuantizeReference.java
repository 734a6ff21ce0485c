package dev.offload.ops.quant;

/**
 * The pure-Java judge of the quantize kernels. Float arithmetic on purpose: the kernels do the same
 * float operations (divisions correctly rounded), so results must match bit for bit.
 */
public final class QuantizeReference {
    private QuantizeReference() {}

    /** A uint8 tensor with its per-tensor scale and zero point (ONNX DynamicQuantizeLinear's three outputs). */
    public record DynamicQuantized(byte[] data, float scale, int zeroPoint) {}

    /** An int8 [rows][cols] tensor quantized symmetrically per row (zero point 0). */
    public record RowQuantized(byte[] data, float[] scales) {}

    /**
     * ONNX DynamicQuantizeLinear: scale = (max(0, max x) - min(0, min x)) / 255,
     * zero point = saturate(round_half_even(0 - min / scale)), y = saturate(round_half_even(x / scale) + zp).
     * An all-zero input has scale 0: zero point 0 and y 0. NaN inputs are not supported (ONNX leaves them undefined).
     */
    public static DynamicQuantized dynamicQuantizeLinear(float[] x) {
        float lo = 0f, hi = 0f;
        for (float v : x) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        float scale = (hi - lo) / 255f;
        int zp = scale == 0f ? 0 : (int) Math.max(0, Math.min(255, Math.rint(0f - lo / scale)));
        byte[] y = new byte[x.length];
        if (scale != 0f) {
            for (int i = 0; i < x.length; i++) {
                y[i] = (byte) QuantType.UINT8.saturate((long) Math.rint(x[i] / scale) + zp);
            }
        }
        return new DynamicQuantized(y, scale, zp);
    }

    /** scale[r] = max|x[r,:]| / 127, q = clamp(round_half_even(x / scale), -127, 127); zero rows: scale 0, q 0. */
    public static RowQuantized symmetricPerRow(float[] x, int rows, int cols) {
        checkShape(x.length, rows, cols);
        byte[] q = new byte[rows * cols];
        float[] scales = new float[rows];
        for (int r = 0; r < rows; r++) {
            float m = 0f;
            for (int c = 0; c < cols; c++) m = Math.max(m, Math.abs(x[r * cols + c]));
            float scale = m / 127f;
            scales[r] = scale;
            if (scale == 0f) continue;
            for (int c = 0; c < cols; c++) {
                q[r * cols + c] = (byte) Math.max(-127, Math.min(127, Math.rint(x[r * cols + c] / scale)));
            }
        }
        return new RowQuantized(q, scales);
    }

    /** y = (q - zeroPoint) * scale in float. */
    public static float[] dequantize(byte[] q, QuantType type, int rows, int cols, QuantParams params) {
        checkShape(q.length, rows, cols);
        params.check(rows, cols);
        float[] y = new float[q.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int p = params.index(r, c);
                y[r * cols + c] = (float) (type.value(q[r * cols + c]) - params.zeroPoint()[p]) * params.scale()[p];
            }
        }
        return y;
    }

    static void checkShape(int length, int rows, int cols) {
        if (rows < 1 || cols < 1 || (long) rows * cols != length) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " tensor needs " + (long) rows * cols
                    + " elements, got " + length);
        }
    }
}
