package dev.offload.model.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * ggml's block formats decoded to float, the reference: each value computed with ggml's own float expression order
 * (so results match llama.cpp's dequantization bit for bit, checked against gguf-py's in the tests).
 *
 * <p>Layouts (little-endian; d, m, dmin are float16): Q8_0 = d, 32 x int8; Q4_0 = d, 16 bytes of nibbles (low
 * nibbles are elements 0-15, high 16-31), value (q - 8) d; Q4_1 = d, m, nibbles, q d + m; Q5_0 / Q5_1 = as Q4 with a
 * fifth bit per element in a 32-bit mask; the K formats work on 256-element super-blocks: Q4_K / Q5_K = d, dmin, 12
 * bytes of 6-bit sub-block scales and mins, (Q5_K: 32 bytes of high bits,) 128 bytes of nibbles in four 64-element
 * runs; Q6_K = 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8 scales, d.
 */
public final class GgmlBlocks {
    private GgmlBlocks() {}

    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Whether {@link #decode} reads this type. */
    public static boolean supported(GgmlType t) {
        return switch (t) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Decodes {@code count} elements (a whole number of blocks) starting at byte {@code offset} of {@code src} into
     * {@code dst[to..]}.
     */
    public static void decode(GgmlType type, MemorySegment src, long offset, int count, float[] dst, int to) {
        if (!supported(type)) throw new IllegalArgumentException("offload cannot decode ggml type " + type + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
        if (count % type.blockSize() != 0) throw new IllegalArgumentException(count + " elements are not whole " + type + " blocks of " + type.blockSize());
        int blocks = count / type.blockSize();
        for (int b = 0; b < blocks; b++) {
            long at = offset + (long) b * type.blockBytes();
            int out = to + b * type.blockSize();
            switch (type) {
                case F32 -> dst[out] = src.get(F32, at);
                case F16 -> dst[out] = half(src, at);
                case BF16 -> dst[out] = Float.intBitsToFloat((src.get(HALF, at) & 0xffff) << 16);
                case Q8_0 -> q8_0(src, at, dst, out);
                case Q4_0, Q4_1 -> q4(type == GgmlType.Q4_1, src, at, dst, out);
                case Q5_0, Q5_1 -> q5(type == GgmlType.Q5_1, src, at, dst, out);
                case Q4_K -> q4k(src, at, dst, out);
                case Q5_K -> q5k(src, at, dst, out);
                case Q6_K -> q6k(src, at, dst, out);
                default -> throw new AssertionError(type);
            }
        }
    }

    /** A whole tensor, row-major as ggml stores it ([ne1][ne0] for a matrix). */
    public static float[] decode(GgufTensor t) {
        float[] out = new float[Math.toIntExact(t.info().elementCount())];
        decode(t.type(), t.data(), 0, out.length, out, 0);
        return out;
    }

    private static float half(MemorySegment s, long at) { return Float.float16ToFloat(s.get(HALF, at)); }

    private static int u8(MemorySegment s, long at) { return s.get(ValueLayout.JAVA_BYTE, at) & 0xff; }

    private static void q8_0(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at);
        for (int j = 0; j < 32; j++) y[o + j] = s.get(ValueLayout.JAVA_BYTE, at + 2 + j) * d;
    }

    private static void q4(boolean withMin, MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at), m = withMin ? half(s, at + 2) : 0;
        long qs = at + (withMin ? 4 : 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, qs + j);
            if (withMin) {
                y[o + j] = (q & 0xF) * d + m;
                y[o + j + 16] = (q >> 4) * d + m;
            } else {
                y[o + j] = ((q & 0xF) - 8) * d;
                y[o + j + 16] = ((q >> 4) - 8) * d;
            }
        }
    }

    private static void q5(boolean withMin, MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at), m = withMin ? half(s, at + 2) : 0;
        long hAt = at + (withMin ? 4 : 2);
        int qh = s.get(U32, hAt);
        long qs = hAt + 4;
        for (int j = 0; j < 16; j++) {
            int q = u8(s, qs + j);
            int h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
            int x0 = (q & 0xF) | h0, x1 = (q >> 4) | h1;
            if (withMin) {
                y[o + j] = x0 * d + m;
                y[o + j + 16] = x1 * d + m;
            } else {
                y[o + j] = (x0 - 16) * d;
                y[o + j + 16] = (x1 - 16) * d;
            }
        }
    }

    /** Sub-block j's 6-bit scale and min from the 12 packed bytes at {@code sc}. */
    private static int scale(MemorySegment s, long sc, int j) {
        return j < 4 ? u8(s, sc + j) & 63 : (u8(s, sc + j + 4) & 0xF) | ((u8(s, sc + j - 4) >> 6) << 4);
    }

    private static int min(MemorySegment s, long sc, int j) {
        return j < 4 ? u8(s, sc + j + 4) & 63 : (u8(s, sc + j + 4) >> 4) | ((u8(s, sc + j) >> 6) << 4);
    }

    private static void q4k(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at), dmin = half(s, at + 2);
        long sc = at + 4, qs = at + 16;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2, qs += 32) {
            float d1 = d * scale(s, sc, is), m1 = dmin * min(s, sc, is);
            float d2 = d * scale(s, sc, is + 1), m2 = dmin * min(s, sc, is + 1);
            for (int l = 0; l < 32; l++) y[o + j + l] = d1 * (u8(s, qs + l) & 0xF) - m1;
            for (int l = 0; l < 32; l++) y[o + j + 32 + l] = d2 * (u8(s, qs + l) >> 4) - m2;
        }
    }

    private static void q5k(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at), dmin = half(s, at + 2);
        long sc = at + 4, qh = at + 16, ql = at + 48;
        int u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            float d1 = d * scale(s, sc, is), m1 = dmin * min(s, sc, is);
            float d2 = d * scale(s, sc, is + 1), m2 = dmin * min(s, sc, is + 1);
            for (int l = 0; l < 32; l++) y[o + j + l] = d1 * ((u8(s, ql + l) & 0xF) + ((u8(s, qh + l) & u1) != 0 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) y[o + j + 32 + l] = d2 * ((u8(s, ql + l) >> 4) + ((u8(s, qh + l) & u2) != 0 ? 16 : 0)) - m2;
        }
    }

    private static void q6k(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at + 208);
        long ql = at, qh = at + 128, sc = at + 192;
        for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16, h = u8(s, qh + l);
                int q1 = ((u8(s, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((u8(s, ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((u8(s, ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((u8(s, ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                y[o + n + l] = d * s.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                y[o + n + l + 32] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                y[o + n + l + 64] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                y[o + n + l + 96] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
        }
    }
}
