package dev.offload.ops.blockq;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Seeded weights and activations for the validator, the tests and the benchmark: every quantized value drawn
 * uniformly from its whole range (Q8_0 -128..127, Q4_0 all 16 nibbles, x -128..127; Q4_K's 6-bit scales and mins
 * and Q6_K's int8 scales too, being random bytes), fp16 scales (d, Q4_K's dmin) of both signs over two orders of
 * magnitude, so every bit of every lane is exercised.
 */
public final class RandomBlocks {
    private RandomBlocks() {}

    /** A weight of random blocks in {@code arena}. */
    public static BlockMatrix weight(BlockFormat format, int rows, int cols, SplittableRandom rnd, Arena arena) {
        long bytes = (long) rows * (cols / format.valuesPerBlock()) * format.blockBytes();
        MemorySegment seg = arena.allocate(bytes, 64);
        byte[] block = new byte[format.blockBytes()];
        for (long at = 0; at < bytes; at += block.length) {
            rnd.nextBytes(block);
            switch (format) {
                case Q8_0, Q4_0 -> putHalf(block, 0, scale(rnd));
                case Q4_K -> {
                    putHalf(block, 0, scale(rnd));
                    putHalf(block, 2, scale(rnd));
                }
                case Q6_K -> putHalf(block, 208, scale(rnd));
            }
            MemorySegment.copy(MemorySegment.ofArray(block), 0, seg, at, block.length);
        }
        return new BlockMatrix(format, rows, cols, seg);
    }

    private static void putHalf(byte[] block, int at, float v) {
        short h = Float.floatToFloat16(v);
        block[at] = (byte) h;
        block[at + 1] = (byte) (h >> 8);
    }

    /** Random int8 activations, m * k values. */
    public static byte[] activations(int m, int k, SplittableRandom rnd) {
        byte[] x = new byte[m * k];
        rnd.nextBytes(x);
        return x;
    }

    /** Random per-block activation scales (fp16 values, as a per-block quantize writes them), count values. */
    public static float[] scales(int count, SplittableRandom rnd) {
        float[] d = new float[count];
        for (int i = 0; i < count; i++) d[i] = Float.float16ToFloat(Float.floatToFloat16(Math.abs(scale(rnd))));
        return d;
    }

    /** A scale of either sign, 2^-12 .. 2^-5 in magnitude. */
    private static float scale(SplittableRandom rnd) {
        return (float) ((rnd.nextBoolean() ? 1 : -1) * Math.pow(2, rnd.nextDouble(-12, -5)));
    }
}
