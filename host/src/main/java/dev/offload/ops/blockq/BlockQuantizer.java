package dev.offload.ops.blockq;

import dev.offload.ops.quant.Q8Block;

/**
 * ggml's reference quantizers, a row at a time into block bytes: Q8_0 is {@link Q8Block} (quantize_row_q8_0_ref),
 * Q4_0 is quantize_row_q4_0_ref: the signed value of largest magnitude (the first one, on ties) sets
 * d = max / -8, id = d != 0 ? 1 / d : 0, and q = min(15, trunc(x * id + 8.5)), so that max maps to 0 and -max to
 * 16, clamped to 15. Both are checked bit for bit against gguf-py's quantizers (BlockQuantizerTest's vectors).
 * A NaN or an infinity in a Q4_0 block gives whatever the clamp to 0..15 makes of it (ggml leaves it undefined).
 */
final class BlockQuantizer {
    private BlockQuantizer() {}

    /** Quantizes x[from, from + cols) (cols a multiple of 32) into cols / 32 blocks at out[at..]. */
    static void quantizeRow(BlockFormat format, float[] x, int from, int cols, byte[] out, int at) {
        byte[] q = new byte[Q8Block.SIZE];
        for (int b = 0; b < cols / BlockFormat.BLOCK; b++) {
            int src = from + b * BlockFormat.BLOCK, dst = at + b * format.blockBytes();
            short d = switch (format) {
                case Q8_0 -> {
                    short h = Q8Block.quantize(x, src, q, 0);
                    System.arraycopy(q, 0, out, dst + 2, Q8Block.SIZE);
                    yield h;
                }
                case Q4_0 -> q4_0(x, src, out, dst + 2);
            };
            out[dst] = (byte) d;
            out[dst + 1] = (byte) (d >> 8);
        }
    }

    /** One Q4_0 block: the nibbles into out[at, at + 16); returns d as fp16 bits. */
    private static short q4_0(float[] x, int from, byte[] out, int at) {
        float amax = 0f, max = 0f;
        for (int i = 0; i < BlockFormat.BLOCK; i++) {
            float v = x[from + i];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8f;
        float id = d != 0f ? 1f / d : 0f;
        for (int j = 0; j < 16; j++) {
            int lo = nibble(x[from + j] * id), hi = nibble(x[from + 16 + j] * id);
            out[at + j] = (byte) (lo | hi << 4);
        }
        return Float.floatToFloat16(d);
    }

    private static int nibble(float scaled) { return Math.clamp((int) (scaled + 8.5f), 0, 15); }
}
