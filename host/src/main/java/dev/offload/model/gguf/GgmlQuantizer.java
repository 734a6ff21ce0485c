package dev.offload.model.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Floats to ggml blocks the way llama.cpp writes model files: ggml's reference quantizers
 * ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}) in their float arithmetic, so a file made here holds
 * the bytes {@code llama-quantize} would write for the same values. {@link GgmlBlocks} is the inverse.
 *
 * <ul>
 *   <li>Q8_0, per 32 values: d = max|x| / 127 (stored as float16), q = roundf(x * (1/d)) (halves away from zero);</li>
 *   <li>Q4_0, per 32 values: m = the value of largest magnitude (the first such), d = m / -8 (float16),
 *       q = min(15, (int) (x * (1/d) + 8.5)); element j in the low nibble of byte j, element 16 + j in its high
 *       nibble;</li>
 *   <li>F32 as is; F16 rounded to nearest even (as ggml's conversion).</li>
 * </ul>
 * An all-zero block has d = 0 and 1/d taken as 0.
 */
public final class GgmlQuantizer {
    private GgmlQuantizer() {}

    /** Whether {@link #encode} writes this type. */
    public static boolean supported(GgmlType t) {
        return switch (t) {
            case F32, F16, Q8_0, Q4_0 -> true;
            default -> false;
        };
    }

    /** Bytes of {@code elements} values of {@code type} (a whole number of blocks). */
    public static long byteSize(GgmlType type, long elements) {
        if (elements % type.blockSize() != 0) throw new IllegalArgumentException(elements + " elements are not whole " + type + " blocks of " + type.blockSize());
        return Math.multiplyExact(elements / type.blockSize(), type.blockBytes());
    }

    /** {@code values} as blocks of {@code type}. */
    public static byte[] encode(GgmlType type, float[] values) {
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(byteSize(type, values.length)));
        encode(type, values, 0, values.length, out);
        return out.array();
    }

    /** Encodes {@code count} values (whole blocks) of {@code src} from {@code from} into {@code out} at its position. */
    public static void encode(GgmlType type, float[] src, int from, int count, ByteBuffer out) {
        if (!supported(type)) throw new IllegalArgumentException("offload cannot quantize to ggml type " + type + " (supported: F32, F16, Q8_0, Q4_0)");
        byteSize(type, count);
        ByteOrder order = out.order();
        out.order(ByteOrder.LITTLE_ENDIAN);
        for (int at = from; at < from + count; at += type.blockSize()) {
            switch (type) {
                case F32 -> out.putFloat(src[at]);
                case F16 -> out.putShort(Float.floatToFloat16(src[at]));
                case Q8_0 -> q8_0(src, at, out);
                case Q4_0 -> q4_0(src, at, out);
                default -> throw new AssertionError(type);
            }
        }
        out.order(order);
    }

    private static void q8_0(float[] x, int at, ByteBuffer out) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[at + j]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) out.put((byte) roundf(x[at + j] * id));
    }

    private static void q4_0(float[] x, int at, ByteBuffer out) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[at + j];
            if (amax < Math.abs(v)) {   // strictly greater: the first value of largest magnitude wins, as in ggml
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[at + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[at + 16 + j] * id + 8.5f));
            out.put((byte) (lo | hi << 4));
        }
    }

    /** C's roundf: to the nearest integer, halves away from zero (Math.round takes halves up, towards +inf). */
    static int roundf(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }
}
