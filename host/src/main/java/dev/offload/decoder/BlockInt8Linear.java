package dev.offload.decoder;

import dev.offload.math.ParallelRows;

/**
 * A linear layer whose input is first quantized per block of 32 values to int8, the way the device graph and
 * llama.cpp feed every block-quantized matmul: the arithmetic {@link DecoderReference} models in its
 * {@link DecoderReference.Activations#INT8_BLOCKS} mode. Written as plain loops on purpose, apart from the graph's
 * quantize and block-linear ops, so that it judges them rather than repeats them.
 *
 * <p>Quantization of each row's blocks of 32, ggml's block_q8_0 rule (quantize_row_q8_0_ref):
 * <pre>
 *   amax = max |x|;  d = amax / 127 (float);  id = d != 0 ? 1 / d : 0 (from the float d)
 *   q    = clamp(roundf(x * id), -128, 127)   (round half away from zero)
 *   dx   = fp16(d) as a float                 (the stored scale: every product uses it, not d)
 * </pre>
 * The linear over those: y[j] = sum_b dx_b * sum_i q[32b + i] * w[32b + i][j] (+ bias[j]), summed in double and
 * rounded to float once. Over the float weights of a Q8_0 or Q4_0 file (each w = integer * fp16 d exactly) every
 * product and every block sum is exact in double (at most 2^19 times an fp16 scale), and the sum over blocks errs
 * by nb 2^-53 of its terms: y is the exact value of what the device's integer block dot products compute, rounded
 * once. A device differs from it only by its float accumulation order (dev.offload.ops.blockq.BlockLinearBound).
 */
final class BlockInt8Linear {
    static final int BLOCK = 32;

    private BlockInt8Linear() {}

    /** x [rows][cols] quantized per block: q [rows][cols], scales [rows][cols / 32] (the fp16 value of d). */
    record Blocks(byte[] q, float[] scales) {}

    static Blocks quantize(float[] x, int rows, int cols) {
        if (cols % BLOCK != 0) throw new IllegalArgumentException("block-int8 activations need a multiple of " + BLOCK + " values a row, got " + cols);
        if ((long) rows * cols != x.length) throw new IllegalArgumentException(x.length + " values are not " + rows + " x " + cols);
        byte[] q = new byte[x.length];
        float[] scales = new float[x.length / BLOCK];
        for (int b = 0; b < scales.length; b++) {
            int o = b * BLOCK;
            float amax = 0f;
            for (int i = 0; i < BLOCK; i++) amax = Math.max(amax, Math.abs(x[o + i]));   // Math.max carries a NaN
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            for (int i = 0; i < BLOCK; i++) {
                float v = x[o + i] * id;
                // roundf: halves away from zero (exact in double); then saturate, NaN to 0 (the (int) cast does both)
                double r = Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
                q[o + i] = (byte) Math.clamp((int) r, -128, 127);
            }
            scales[b] = Float.float16ToFloat(Float.floatToFloat16(d));
        }
        return new Blocks(q, scales);
    }

    /** y [rows][out] for x [rows][in] and w [in][out] row-major (DecoderWeights' layout); bias [out] or null. */
    static float[] linear(float[] x, float[] w, float[] bias, int rows, int in, int out) {
        Blocks a = quantize(x, rows, in);
        int nb = in / BLOCK;
        float[] y = new float[Math.multiplyExact(rows, out)];
        ParallelRows.of(rows, (long) in * out).forEach(r -> {
            double[] acc = new double[out], block = new double[out];
            for (int b = 0; b < nb; b++) {
                java.util.Arrays.fill(block, 0);
                for (int i = 0; i < BLOCK; i++) {
                    int k = b * BLOCK + i, q = a.q()[r * in + k];
                    if (q == 0) continue;
                    for (int j = 0, wo = k * out; j < out; j++) block[j] += q * (double) w[wo + j];
                }
                double dx = a.scales()[r * nb + b];
                for (int j = 0; j < out; j++) acc[j] += dx * block[j];
            }
            for (int j = 0; j < out; j++) y[r * out + j] = (float) (acc[j] + (bias == null ? 0 : bias[j]));
        });
        return y;
    }
}
