package dev.offload.model.onnx;

import dev.offload.model.QuantizedLinear;
import java.util.Arrays;

/**
 * ONNX constants turned into model weights, converting only where the representation differs: int8 weights and
 * float tables are used as the tensors hold them (each tensor was decoded into its array once, in
 * {@link OnnxModel}; nothing writes to model weights afterwards), uint8 weights are shifted to int8, 8-bit
 * embedding tables are dequantized to float.
 */
final class ImportedWeights {
    private ImportedWeights() {}

    /**
     * The int8 linear layer of a MatMulInteger weight {@code w} [K, N] (int8 or uint8) with per-tensor or
     * per-column scales and zero points.
     */
    static QuantizedLinear quantizedLinear(OnnxTensor w, float[] scale, long[] zeroPoint, float[] bias) {
        int k = w.dim(0), n = w.dim(1);
        boolean uint8 = w.type() == OnnxType.UINT8;
        int[] zero = new int[n];
        boolean anyZero = false;
        for (int c = 0; c < n; c++) {
            zero[c] = (int) zeroPoint[zeroPoint.length == 1 ? 0 : c];
            // uint8 weights: shift both weight and zero point by -128 (w - z is unchanged) to store int8.
            if (uint8) zero[c] -= 128;
            anyZero |= zero[c] != 0;
        }
        byte[] q = w.bytes();
        if (uint8) {
            byte[] shifted = new byte[q.length];
            for (int i = 0; i < q.length; i++) shifted[i] = (byte) (Byte.toUnsignedInt(q[i]) - 128);
            q = shifted;
        }
        return new QuantizedLinear(k, n, q, perColumn(scale, n), anyZero ? zero : null, bias);
    }

    /** A per-tensor (one value) or per-column scale as one value per column. */
    static float[] perColumn(float[] s, int columns) {
        if (s.length == columns) return s;
        float[] r = new float[columns];
        Arrays.fill(r, s[0]);
        return r;
    }

    /** An 8-bit embedding table as floats: (q - zero) * scale. */
    static float[] dequantize(OnnxTensor table, float scale, long zero) {
        float[] out = new float[table.size()];
        for (int i = 0; i < out.length; i++) {
            int q = table.type() == OnnxType.UINT8 ? table.uint8(i) : table.bytes()[i];
            out[i] = (float) (q - zero) * scale;
        }
        return out;
    }
}
