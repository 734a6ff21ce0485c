package dev.offload.ops.quant;

import dev.offload.math.ParallelRows;
import java.util.Arrays;

/**
 * The pure-Java definition of quantization: the judge of the quantize kernels ({@link Quantize}), the java device's
 * quantize and dequantize nodes ({@link QuantizeJava}) and the encoder reference's activations. Float arithmetic on
 * purpose: the kernels do the same float operations (divisions correctly rounded), so results match bit for bit.
 * Rounding is half to even (Math.rint, as ONNX).
 *
 * <p>uint8 quantization is ONNX DynamicQuantizeLinear over groups of rows: one group is the ONNX op itself, one per
 * sentence or per row are the graph's other modes. An empty range (an all-zero group) has scale 1 and zero point 0,
 * ONNX Runtime's rule ({@link #scale}).
 *
 * <p>Values that are not finite, offload's rule (ONNX leaves them undefined; the kernels follow it bit for bit): a
 * group whose counted values hold a NaN or an infinity has no finite step, so its scale is NaN, its zero point 0 and
 * its values quantize to 0, and everything computed from it (dequantized values, a linear layer's outputs) is NaN.
 * An integer can hold neither NaN nor infinity, and quantizing the others around it would hide it behind finite
 * numbers. A NaN in rows a group does not count (a sentence's padding) quantizes to the zero point, an infinity to the
 * end of the range.
 */
public final class QuantizeReference {
    private QuantizeReference() {}

    /** A uint8 tensor with its per-tensor scale and zero point (ONNX DynamicQuantizeLinear's three outputs). */
    public record DynamicQuantized(byte[] data, float scale, int zeroPoint) {}

    /** An int8 [rows][cols] tensor quantized symmetrically per row (zero point 0). */
    public record RowQuantized(byte[] data, float[] scales) {}

    /** A quantized tensor as the graph's quantize node writes it: data, and one scale and zero point per group or row. */
    public record Quantized(byte[] data, float[] scales, int[] zeroPoints) {}

    /**
     * ONNX Runtime's DynamicQuantizeLinear scale for the range [lo, hi] (lo <= 0 <= hi): (hi - lo) / 255, and 1 when
     * the range is empty (every value 0), so that the zero point is 0 and the values quantize to 0.
     */
    public static float scale(float lo, float hi) { return hi == lo ? 1f : (hi - lo) / 255f; }

    /**
     * ONNX DynamicQuantizeLinear: scale = {@link #scale}(min(0, min x), max(0, max x)),
     * zero point = saturate(round_half_even(0 - min / scale)), y = saturate(round_half_even(x / scale) + zp);
     * a tensor with a NaN or an infinity: scale NaN, zero point 0, y 0 (the class comment).
     */
    public static DynamicQuantized dynamicQuantizeLinear(float[] x) {
        if (x.length == 0) return new DynamicQuantized(new byte[0], scale(0f, 0f), 0);
        Quantized q = groups(x, 1, 1, x.length, g -> 1);
        return new DynamicQuantized(q.data(), q.scales()[0], q.zeroPoints()[0]);
    }

    /**
     * DynamicQuantizeLinear per sentence: x is [batch][seq][cols]; sentence b's range covers its first lengths[b]
     * rows (its real tokens; all rows when that is 0), and its scale and zero point are repeated for each of its
     * rows ([batch * seq]), so a sentence's result depends neither on its padding nor on its batch neighbours.
     */
    public static Quantized perSentenceUint8(float[] x, int batch, int seq, int cols, int[] lengths) {
        Quantized g = groups(x, batch, seq, cols, b -> {
            int len = Math.clamp(lengths[b], 0, seq);
            return len == 0 ? seq : len;
        });
        float[] scales = new float[batch * seq];
        int[] zps = new int[batch * seq];
        for (int b = 0; b < batch; b++) {
            Arrays.fill(scales, b * seq, (b + 1) * seq, g.scales()[b]);
            Arrays.fill(zps, b * seq, (b + 1) * seq, g.zeroPoints()[b]);
        }
        return new Quantized(g.data(), scales, zps);
    }

    /** Which rows of a group count for its range: the first {@code countedRows(g)}. */
    private interface CountedRows { int of(int group); }

    /** DynamicQuantizeLinear over x [groups][rowsPerGroup][cols]: one scale and zero point per group. */
    private static Quantized groups(float[] x, int groups, int rowsPerGroup, int cols, CountedRows counted) {
        checkShape(x.length, groups * rowsPerGroup, cols);
        byte[] q = new byte[x.length];
        float[] scales = new float[groups];
        int[] zps = new int[groups];
        ParallelRows.of(groups, (long) rowsPerGroup * cols).forEach(g -> {
            int base = g * rowsPerGroup * cols;
            float lo = 0f, hi = 0f;   // the range always includes 0
            for (int i = base; i < base + counted.of(g) * cols; i++) {
                lo = Math.min(lo, x[i]);
                hi = Math.max(hi, x[i]);
            }
            boolean finite = Float.isFinite(lo) && Float.isFinite(hi);   // Math.min and max carry a NaN through
            float scale = finite ? scale(lo, hi) : Float.NaN;
            int zp = finite ? (int) Math.clamp(Math.rint(0f - lo / scale), 0, 255) : 0;
            for (int i = base; i < base + rowsPerGroup * cols; i++) q[i] = (byte) uint8(x[i] / scale, zp);
            scales[g] = scale;
            zps[g] = zp;
        });
        return new Quantized(q, scales, zps);
    }

    /**
     * saturate(round_half_even(quotient) + zeroPoint) to [0, 255], as the kernels' saturating conversion gives it:
     * NaN counts as 0, an infinity saturates.
     */
    private static int uint8(float quotient, int zeroPoint) {
        if (Float.isNaN(quotient)) return zeroPoint;
        return (int) Math.clamp(Math.rint(quotient) + zeroPoint, 0, 255);
    }

    /**
     * scale[r] = max|x[r,:]| / 127, q = clamp(round_half_even(x / scale), -127, 127); zero rows: scale 0, q 0; a row
     * with a NaN or an infinity: scale NaN, q 0 (the class comment).
     */
    public static RowQuantized symmetricPerRow(float[] x, int rows, int cols) {
        checkShape(x.length, rows, cols);
        byte[] q = new byte[rows * cols];
        float[] scales = new float[rows];
        ParallelRows.of(rows, cols).forEach(r -> {
            float m = 0f;
            for (int c = 0; c < cols; c++) m = Math.max(m, Math.abs(x[r * cols + c]));
            float scale = Float.isFinite(m) ? m / 127f : Float.NaN;
            scales[r] = scale;
            if (scale == 0f || Float.isNaN(scale)) return;
            for (int c = 0; c < cols; c++) {
                q[r * cols + c] = (byte) Math.max(-127, Math.min(127, Math.rint(x[r * cols + c] / scale)));
            }
        });
        return new RowQuantized(q, scales);
    }

    /**
     * Symmetric int8 per block of 32 along each row, ggml's block_q8_0 ({@link Q8Block}): x is [rows][cols] with
     * cols a multiple of 32; scales are [rows][cols / 32], each the fp16 value of its block's d (as a float); one
     * zero point, 0 (the block-quantized linear's activations).
     */
    public static Quantized perBlockInt8(float[] x, int rows, int cols) {
        checkShape(x.length, rows, cols);
        if (cols % Q8Block.SIZE != 0) {
            throw new IllegalArgumentException("per-block int8 needs a multiple of " + Q8Block.SIZE + " columns, got " + cols);
        }
        byte[] q = new byte[x.length];
        float[] scales = new float[x.length / Q8Block.SIZE];
        ParallelRows.of(scales.length, Q8Block.SIZE).forEach(b ->
                scales[b] = Float.float16ToFloat(Q8Block.quantize(x, b * Q8Block.SIZE, q, b * Q8Block.SIZE)));
        return new Quantized(q, scales, new int[1]);
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
