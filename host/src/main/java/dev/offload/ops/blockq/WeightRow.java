package dev.offload.ops.blockq;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One weight row decoded into what the integer dot products of {@link BlockLinearReference} need, for every format
 * alike: per 32-value block b, the integer values q (Q8_0: q; Q4_0: nibble - 8; Q4_K: the bare nibble 0..15; Q6_K:
 * the 6-bit value - 32), one integer scale for each half of 16 values (1 for Q8_0 and Q4_0; Q4_K's sub-block scale
 * twice; Q6_K's two sub-block scales), the float scale d and, for Q4_K only, the integer min m and the float dmin.
 * A weight value is then {@code d * scale * q - dmin * m}. Plain loops over ggml's bytes, the bit layout of
 * {@link dev.offload.model.gguf.GgmlBlocks}.
 */
final class WeightRow {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final BlockFormat format;
    /** K values. */
    final int[] q;
    /** Per block (K / 32): the integer scales of values 0..15 and 16..31, and the min (0 but for Q4_K). */
    final int[] scaleLo, scaleHi, min;
    /** Per block: d, and dmin (0 but for Q4_K). */
    final float[] d, dmin;

    WeightRow(BlockFormat format, int k) {
        this.format = format;
        int nb = k / BlockFormat.BLOCK;
        q = new int[k];
        scaleLo = new int[nb];
        scaleHi = new int[nb];
        min = new int[nb];
        d = new float[nb];
        dmin = new float[nb];
    }

    /** Whether the format has a min term (Q4_K). */
    boolean hasMins() { return format == BlockFormat.Q4_K; }

    /** Decodes row j of {@code w} into this. */
    WeightRow read(BlockMatrix w, int j) {
        MemorySegment s = w.blocks();
        int per = w.format().valuesPerBlock() / BlockFormat.BLOCK;
        for (int sb = 0; sb < w.cols() / w.format().valuesPerBlock(); sb++) {
            long at = w.blockOffset(j, sb);
            for (int t = 0; t < per; t++) {
                int b = sb * per + t;
                switch (format) {
                    case Q8_0 -> q8_0(s, at, b);
                    case Q4_0 -> q4_0(s, at, b);
                    case Q4_K -> q4_k(s, at, t, b);
                    case Q6_K -> q6_k(s, at, t, b);
                }
            }
        }
        return this;
    }

    private void q8_0(MemorySegment s, long at, int b) {
        d[b] = half(s, at);
        scaleLo[b] = scaleHi[b] = 1;
        for (int i = 0; i < 32; i++) q[32 * b + i] = s.get(ValueLayout.JAVA_BYTE, at + 2 + i);
    }

    private void q4_0(MemorySegment s, long at, int b) {
        d[b] = half(s, at);
        scaleLo[b] = scaleHi[b] = 1;
        for (int i = 0; i < 16; i++) {
            int v = u8(s, at + 2 + i);
            q[32 * b + i] = (v & 0xF) - 8;
            q[32 * b + 16 + i] = (v >> 4) - 8;
        }
    }

    /** Sub-block t (0..7) of the Q4_K super-block at {@code at}. */
    private void q4_k(MemorySegment s, long at, int t, int b) {
        d[b] = half(s, at);
        dmin[b] = half(s, at + 2);
        long sc = at + 4;
        scaleLo[b] = scaleHi[b] = t < 4 ? u8(s, sc + t) & 63 : (u8(s, sc + t + 4) & 0xF) | ((u8(s, sc + t - 4) >> 6) << 4);
        min[b] = t < 4 ? u8(s, sc + t + 4) & 63 : (u8(s, sc + t + 4) >> 4) | ((u8(s, sc + t) >> 6) << 4);
        long qs = at + 16 + 32L * (t / 2);
        int shift = 4 * (t % 2);
        for (int i = 0; i < 32; i++) q[32 * b + i] = (u8(s, qs + i) >> shift) & 0xF;
    }

    /**
     * Sub-block pair t (0..7, values 32t .. 32t + 31) of the Q6_K super-block at {@code at}: half h = t / 4 of 128
     * values; in it, run r = t % 4 takes the low (r < 2) or high nibbles of low-bit bytes 32 (r % 2) .. + 31 and
     * bits 2r, 2r + 1 of the high-bit bytes, with scales 2r and 2r + 1 of the half's 8.
     */
    private void q6_k(MemorySegment s, long at, int t, int b) {
        int h = t / 4, r = t % 4;
        long ql = at + 64L * h + 32L * (r % 2), qh = at + 128 + 32L * h, sc = at + 192 + 8L * h + 2L * r;
        d[b] = half(s, at + 208);
        scaleLo[b] = s.get(ValueLayout.JAVA_BYTE, sc);
        scaleHi[b] = s.get(ValueLayout.JAVA_BYTE, sc + 1);
        int nibble = 4 * (r / 2);
        for (int i = 0; i < 32; i++) {
            int low = (u8(s, ql + i) >> nibble) & 0xF, high = (u8(s, qh + i) >> (2 * r)) & 3;
            q[32 * b + i] = (low | high << 4) - 32;
        }
    }

    private static float half(MemorySegment s, long at) { return Float.float16ToFloat(s.get(HALF, at)); }

    private static int u8(MemorySegment s, long at) { return s.get(ValueLayout.JAVA_BYTE, at) & 0xFF; }
}
