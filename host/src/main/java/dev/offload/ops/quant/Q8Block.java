package dev.offload.ops.quant;

/**
 * ggml's block_q8_0 quantizer (quantize_row_q8_0_ref in ggml-quants.c, and gguf-py's Q8_0.quantize_blocks, which
 * is bit-identical to it), the one definition offload uses for both the activations of a block-quantized linear
 * (the graph's per-block int8 quantize) and Q8_0 weights it makes itself. For a block of 32 floats:
 * <pre>
 *   amax = max |x|                       (NaN if any x is NaN, as numpy's max)
 *   d    = amax / 127                    (float, correctly rounded)
 *   id   = d != 0 ? 1 / d : 0            (from the float d, not the fp16 one: ggml's order)
 *   q    = saturate_int8(roundf(x * id)) (round half away from zero; NaN gives 0)
 *   stored scale = fp16(d), round to nearest even; everything after uses that fp16 value
 * </pre>
 * For finite inputs |x * id| stays below 127.5 (three roundings of 2^-24 each), so the saturation only matters for
 * NaN and infinities: an infinite x makes d infinite and id 0, so the block's values quantize to 0 (infinity times 0
 * is NaN, which saturates to 0) and its scale is infinite; a NaN makes the scale NaN. Either way every product with
 * that block is NaN downstream, as a float matmul with that input would be.
 */
public final class Q8Block {
    private Q8Block() {}

    /** Elements per block. */
    public static final int SIZE = 32;

    /**
     * Quantizes x[from, from + 32) into q[to, to + 32) and returns the block's scale as fp16 bits
     * ({@link Float#float16ToFloat} gives the value every later step uses).
     */
    public static short quantize(float[] x, int from, byte[] q, int to) {
        float amax = 0f;
        for (int i = 0; i < SIZE; i++) amax = Math.max(amax, Math.abs(x[from + i]));   // Math.max keeps NaN
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        for (int i = 0; i < SIZE; i++) q[to + i] = saturateInt8(roundHalfAway(x[from + i] * id));
        return Float.floatToFloat16(d);
    }

    /** C's roundf: the nearest integer, halves away from zero (exact: a float plus 0.5 is exact in double). */
    public static float roundHalfAway(float v) {
        return (float) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }

    /** An integral float to int8, saturating; NaN gives 0 (OpenCL's convert_char_sat). */
    public static byte saturateInt8(float v) {
        return (byte) Math.clamp((int) v, -128, 127);   // (int) saturates and maps NaN to 0
    }

    /** The float value of {@code v} rounded to fp16 (nearest even; overflow to infinity, NaN stays NaN). */
    public static float roundToHalf(float v) { return Float.float16ToFloat(Float.floatToFloat16(v)); }
}
