package dev.offload.runtime;

import java.util.Arrays;

/**
 * Dynamic quantization in Java, the semantics of {@link dev.offload.graph.Quantize}. Rounding is half to even
 * (Math.rint, as ONNX), and x / scale is computed in float32 as a kernel would.
 */
public final class QuantizeReference {
    private QuantizeReference() {}

    public record Quantized(byte[] data, float[] scales, int[] zeroPoints) {}

    /** ONNX DynamicQuantizeLinear: uint8, range [min(0, x), max(0, x)], one scale and zero point. */
    public static Quantized perTensorUint8(float[] x) {
        float lo = 0, hi = 0;
        for (float v : x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        float scale = (hi - lo) / 255f;
        if (scale == 0) scale = 1f; // an all-zero tensor: any scale represents it exactly
        int zp = (int) Math.max(0, Math.min(255, Math.rint(-lo / scale)));
        byte[] q = new byte[x.length];
        for (int i = 0; i < x.length; i++) {
            q[i] = (byte) (int) Math.max(0, Math.min(255, Math.rint(x[i] / scale) + zp));
        }
        return new Quantized(q, new float[] {scale}, new int[] {zp});
    }

    /** Symmetric int8 per row: scale = max|x| / 127, values clamped to [-127, 127], zero points 0. */
    public static Quantized perRowInt8(float[] x, int cols) {
        int rows = x.length / cols;
        byte[] q = new byte[x.length];
        float[] scales = new float[rows];
        LayersReference.rows(rows, cols).forEach(r -> {
            float m = 0;
            for (int c = 0; c < cols; c++) m = Math.max(m, Math.abs(x[r * cols + c]));
            float s = m == 0 ? 1f : m / 127f;
            scales[r] = s;
            for (int c = 0; c < cols; c++) {
                q[r * cols + c] = (byte) (int) Math.max(-127, Math.min(127, Math.rint(x[r * cols + c] / s)));
            }
        });
        int[] zps = new int[rows];
        Arrays.fill(zps, 0);
        return new Quantized(q, scales, zps);
    }
}
