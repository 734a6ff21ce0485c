package dev.offload.ops.blockq;

import dev.offload.math.ParallelRows;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.IntStream;

/**
 * The pure-Java definition of the block-quantized linear, the judge of its kernels: llama.cpp's q8_0 x q8_0 and
 * q4_0 x q8_0 dot products (ggml_vec_dot_*_generic), one output at a time. For output (m, n):
 * <pre>
 *   acc = 0f
 *   for b = 0 .. K/32 - 1, in order:
 *       s   = sum_i qx[m, 32b + i] * qw[n, 32b + i]        int, exact (|s| <= 32 * 128 * 128)
 *       acc = acc + (float) s * (dx[m, b] * dw[n, b])      float: one product of the scales, one product, one sum
 *   y = acc + bias[n]                                      (no bias: y = acc)
 * </pre>
 * Q4_0's qw is nibble - 8 (low nibbles elements 0..15, high 16..31); dw is the block's fp16 d as a float. Each
 * step is rounded as written (Java does not contract a * b + c into a fused multiply-add). Rows run in parallel
 * when the weight's memory may be read from other threads (each output is computed alone, so the result does not
 * depend on it).
 */
public final class BlockLinearReference {
    private BlockLinearReference() {}

    /**
     * y [m][n] for x int8 [m][K] with scales dx [m][K / 32] (a per-block int8 quantize's outputs).
     *
     * @param bias N floats, or null
     */
    public static float[] linear(byte[] x, float[] dx, int m, BlockMatrix w, float[] bias) {
        int k = w.cols(), n = w.rows(), nb = w.blocksPerRow();
        check(x, dx, m, w, bias);
        float[] y = new float[Math.multiplyExact(m, n)];
        (w.readableEverywhere() ? ParallelRows.of(n, (long) m * k) : IntStream.range(0, n)).forEach(j -> {
            int[] qw = new int[k];
            float[] dw = new float[nb];
            weightRow(w, j, qw, dw);
            for (int r = 0; r < m; r++) {
                float acc = 0f;
                for (int b = 0; b < nb; b++) {
                    int s = 0;
                    for (int i = 0; i < BlockFormat.BLOCK; i++) s += x[r * k + b * BlockFormat.BLOCK + i] * qw[b * BlockFormat.BLOCK + i];
                    acc = acc + (float) s * (dx[r * nb + b] * dw[b]);
                }
                y[r * n + j] = bias == null ? acc : acc + bias[j];
            }
        });
        return y;
    }

    /** Row j's integer values (Q4_0: nibble - 8) and block scales, decoded from its blocks. */
    static void weightRow(BlockMatrix w, int j, int[] qw, float[] dw) {
        MemorySegment s = w.blocks();
        for (int b = 0; b < w.blocksPerRow(); b++) {
            long at = w.blockOffset(j, b) + 2;
            dw[b] = w.scale(j, b);
            int o = b * BlockFormat.BLOCK;
            switch (w.format()) {
                case Q8_0 -> {
                    for (int i = 0; i < BlockFormat.BLOCK; i++) qw[o + i] = s.get(ValueLayout.JAVA_BYTE, at + i);
                }
                case Q4_0 -> {
                    for (int i = 0; i < 16; i++) {
                        int v = s.get(ValueLayout.JAVA_BYTE, at + i) & 0xFF;
                        qw[o + i] = (v & 0xF) - 8;
                        qw[o + 16 + i] = (v >> 4) - 8;
                    }
                }
            }
        }
    }

    static void check(byte[] x, float[] dx, int m, BlockMatrix w, float[] bias) {
        if (m < 1 || (long) m * w.cols() != x.length) {
            throw new IllegalArgumentException("x must be int8 [" + m + "][" + w.cols() + "], got " + x.length + " values");
        }
        if ((long) m * w.blocksPerRow() != dx.length) {
            throw new IllegalArgumentException("x scales must be [" + m + "][" + w.blocksPerRow() + "], got " + dx.length + " values");
        }
        if (bias != null && bias.length != w.rows()) {
            throw new IllegalArgumentException("bias must have N = " + w.rows() + " entries, got " + bias.length);
        }
    }
}
