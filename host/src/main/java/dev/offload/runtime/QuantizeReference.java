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

    /**
     * DynamicQuantizeLinear per sentence: x is [batch][seq][cols]; sentence b's range covers its first lengths[b]
     * rows (all rows when that is 0), and its scale and zero point are repeated for each of its rows.
     */
    public static Quantized perSentenceUint8(float[] x, int batch, int seq, int cols, int[] lengths) {
        byte[] q = new byte[x.length];
        float[] scales = new float[batch * seq];
        int[] zps = new int[batch * seq];
        for (int b = 0; b < batch; b++) {
            int len = Math.clamp(lengths[b], 0, seq);
            int counted = len == 0 ? seq : len;
            int base = b * seq * cols;
            float lo = 0, hi = 0;
            for (int i = base; i < base + counted * cols; i++) { lo = Math.min(lo, x[i]); hi = Math.max(hi, x[i]); }
            float scale = (hi - lo) / 255f;
            if (scale == 0) scale = 1f;
            int zp = (int) Math.max(0, Math.min(255, Math.rint(-lo / scale)));
            for (int i = base; i < base + seq * cols; i++) {
                q[i] = (byte) (int) Math.max(0, Math.min(255, Math.rint(x[i] / scale) + zp));
            }
            Arrays.fill(scales, b * seq, (b + 1) * seq, scale);
            Arrays.fill(zps, b * seq, (b + 1) * seq, zp);
        }
        return new Quantized(q, scales, zps);
    }

    /**
     * Symmetric int8 per row: scale = max|x| / 127, values clamped to [-127, 127], zero points 0. An all-zero row
     * has scale 0 (its values are 0), as the quantize kernel writes it.
     */
    public static Quantized perRowInt8(float[] x, int cols) {
        int rows = x.length / cols;
        byte[] q = new byte[x.length];
        float[] scales = new float[rows];
        LayersReference.rows(rows, cols).forEach(r -> {
            float m = 0;
            for (int c = 0; c < cols; c++) m = Math.max(m, Math.abs(x[r * cols + c]));
            float s = m / 127f;
            scales[r] = s;
            if (s == 0) return;
            for (int c = 0; c < cols; c++) {
                q[r * cols + c] = (byte) (int) Math.max(-127, Math.min(127, Math.rint(x[r * cols + c] / s)));
            }
        });
        int[] zps = new int[rows];
        Arrays.fill(zps, 0);
        return new Quantized(q, scales, zps);
    }
}
