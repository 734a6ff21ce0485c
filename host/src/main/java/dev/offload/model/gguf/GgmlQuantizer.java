package dev.offload.model.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Floats to ggml blocks the way llama.cpp writes model files: for Q8_0 and Q4_0 ggml's reference quantizers
 * ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}) in their float arithmetic, so a file made here holds
 * the bytes {@code llama-quantize} would write for the same values; for Q4_K and Q6_K offload's own quantizers, which
 * write valid ggml blocks (llama.cpp reads them and computes the same values from them, {@link GgmlBlocks} decodes
 * them) but not llama-quantize's bytes: it searches each sub-block's scale and min for the least weighted error,
 * these take them from the range. {@link GgmlBlocks} is the inverse.
 *
 * <ul>
 *   <li>Q8_0, per 32 values: d = max|x| / 127 (stored as float16), q = roundf(x * (1/d)) (halves away from zero);</li>
 *   <li>Q4_0, per 32 values: m = the value of largest magnitude (the first such), d = m / -8 (float16),
 *       q = min(15, (int) (x * (1/d) + 8.5)); element j in the low nibble of byte j, element 16 + j in its high
 *       nibble;</li>
 *   <li>Q4_K, per 256 values (8 sub-blocks of 32): sub-block j spans lo_j = min(0, min x) .. max x, so its step is
 *       s_j = (max x - lo_j) / 15 and its offset o_j = -lo_j >= 0; d = max s_j / 63 and dmin = max o_j / 63 (float16),
 *       the 6-bit sc_j = round(s_j / d), m_j = round(o_j / dmin), and q = round((x + dmin m_j) / (d sc_j)) in 0..15;</li>
 *   <li>Q6_K, per 256 values (16 sub-blocks of 16): s_j = max |x| / 31 of sub-block j, d = max s_j / 127 (float16),
 *       the int8 sc_j = round(s_j / d), q = round(x / (d sc_j)) in -32..31, stored as q + 32;</li>
 *   <li>F32 as is; F16 rounded to nearest even (as ggml's conversion).</li>
 * </ul>
 * (The K rules use the stored float16 d and dmin, so q is chosen against the very scales a reader decodes.)
 * An all-zero block has d = 0 and 1/d taken as 0.
 */
public final class GgmlQuantizer {
    private GgmlQuantizer() {}

    /** Whether {@link #encode} writes this type. */
    public static boolean supported(GgmlType t) {
        return switch (t) {
            case F32, F16, Q8_0, Q4_0, Q4_K, Q6_K -> true;
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
        if (!supported(type)) throw new IllegalArgumentException("offload cannot quantize to ggml type " + type + " (supported: F32, F16, Q8_0, Q4_0, Q4_K, Q6_K)");
        byteSize(type, count);
        ByteOrder order = out.order();
        out.order(ByteOrder.LITTLE_ENDIAN);
        for (int at = from; at < from + count; at += type.blockSize()) {
            switch (type) {
                case F32 -> out.putFloat(src[at]);
                case F16 -> out.putShort(Float.floatToFloat16(src[at]));
                case Q8_0 -> q8_0(src, at, out);
                case Q4_0 -> q4_0(src, at, out);
                case Q4_K -> q4_k(src, at, out);
                case Q6_K -> q6_k(src, at, out);
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

    private static void q4_k(float[] x, int at, ByteBuffer out) {
        float[] step = new float[8], offset = new float[8];
        for (int j = 0; j < 8; j++) {
            float lo = 0, hi = -Float.MAX_VALUE;
            for (int i = 0; i < 32; i++) {
                lo = Math.min(lo, x[at + 32 * j + i]);
                hi = Math.max(hi, x[at + 32 * j + i]);
            }
            step[j] = (Math.max(hi, lo) - lo) / 15;
            offset[j] = -lo;
        }
        short d16 = Float.floatToFloat16(max(step) / 63), dmin16 = Float.floatToFloat16(max(offset) / 63);
        float d = Float.float16ToFloat(d16), dmin = Float.float16ToFloat(dmin16);
        int[] sc = new int[8], m = new int[8];
        for (int j = 0; j < 8; j++) {
            sc[j] = d > 0 ? Math.min(63, roundf(step[j] / d)) : 0;
            m[j] = dmin > 0 ? Math.min(63, roundf(offset[j] / dmin)) : 0;
        }
        out.putShort(d16).putShort(dmin16);
        // The 12 scale bytes: sub-blocks 0..3 whole in bytes 0..7 (scale, min), 4..7's low 4 bits in bytes 8..11 and
        // their high 2 bits in the top bits of bytes 0..7.
        for (int j = 0; j < 4; j++) out.put((byte) (sc[j] | (sc[j + 4] >> 4) << 6));
        for (int j = 0; j < 4; j++) out.put((byte) (m[j] | (m[j + 4] >> 4) << 6));
        for (int j = 4; j < 8; j++) out.put((byte) ((sc[j] & 0xF) | (m[j] & 0xF) << 4));
        int[] q = new int[256];
        for (int j = 0; j < 8; j++) {
            float scale = d * sc[j], shift = dmin * m[j];
            for (int i = 0; i < 32; i++) q[32 * j + i] = scale > 0 ? clamp(roundf((x[at + 32 * j + i] + shift) / scale), 0, 15) : 0;
        }
        // Sub-blocks 2c and 2c + 1 share bytes 32c .. 32c + 31: low and high nibbles.
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) out.put((byte) (q[64 * c + l] | q[64 * c + 32 + l] << 4));
        }
    }

    private static void q6_k(float[] x, int at, ByteBuffer out) {
        float[] step = new float[16];
        for (int j = 0; j < 16; j++) {
            float amax = 0;
            for (int i = 0; i < 16; i++) amax = Math.max(amax, Math.abs(x[at + 16 * j + i]));
            step[j] = amax / 31;
        }
        short d16 = Float.floatToFloat16(max(step) / 127);
        float d = Float.float16ToFloat(d16);
        int[] sc = new int[16], q = new int[256];
        for (int j = 0; j < 16; j++) {
            sc[j] = d > 0 ? Math.min(127, roundf(step[j] / d)) : 0;
            float scale = d * sc[j];
            for (int i = 0; i < 16; i++) q[16 * j + i] = (scale > 0 ? clamp(roundf(x[at + 16 * j + i] / scale), -32, 31) : 0) + 32;
        }
        // Per half h of 128 values: low nibbles in bytes 64h .., values l and l + 64 sharing byte l (l < 64); the top
        // 2 bits of values l, l + 32, l + 64, l + 96 in bits 0-1, 2-3, 4-5, 6-7 of high-bit byte 32h + l.
        byte[] ql = new byte[128], qh = new byte[64];
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 64; l++) ql[64 * h + l] = (byte) ((q[128 * h + l] & 0xF) | (q[128 * h + 64 + l] & 0xF) << 4);
            for (int l = 0; l < 32; l++) {
                int bits = 0;
                for (int r = 0; r < 4; r++) bits |= (q[128 * h + 32 * r + l] >> 4) << (2 * r);
                qh[32 * h + l] = (byte) bits;
            }
        }
        out.put(ql).put(qh);
        for (int j = 0; j < 16; j++) out.put((byte) sc[j]);
        out.putShort(d16);
    }

    private static float max(float[] v) {
        float m = 0;
        for (float f : v) m = Math.max(m, f);
        return m;
    }

    private static int clamp(int v, int lo, int hi) { return Math.max(lo, Math.min(hi, v)); }

    /** C's roundf: to the nearest integer, halves away from zero (Math.round takes halves up, towards +inf). */
    static int roundf(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }
}
