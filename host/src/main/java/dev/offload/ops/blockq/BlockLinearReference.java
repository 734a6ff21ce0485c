package dev.offload.ops.blockq;

import dev.offload.math.ParallelRows;
import java.util.stream.IntStream;

/**
 * The pure-Java definition of the block-quantized linear, the judge of its kernels: llama.cpp's q8_0 x q8_0 and
 * q4_0 x q8_0 dot products (ggml_vec_dot_*_generic), and for Q4_K and Q6_K what its q4_K x q8_K and q6_K x q8_K do
 * (integer sub-block dots times the sub-block's integer scale, the min term through the activations' sums), but
 * against offload's activations in 32-value blocks of their own scale (llama.cpp's q8_K has one per 256). One output
 * at a time; for output (m, n), with the weight row decoded by {@link WeightRow} (per 32-value block b: integer q,
 * integer scales sLo, sHi of its two 16-value halves, float d; Q4_K also the integer min mn and float dmin):
 * <pre>
 *   acc = 0f
 *   for b = 0 .. K/32 - 1, in order:
 *       lo  = sum_{i < 16} qx[m, 32b + i] * q[n, 32b + i],  hi = the same over i = 16 .. 31      int, exact
 *       Q8_0, Q4_0, Q6_K:
 *           acc = acc + (float) (sLo * lo + sHi * hi) * (dx[m, b] * d[n, b])                      (|int| <= 2^24)
 *       Q4_K (sLo = sHi = sc):
 *           acc = fma((float) (lo + hi), dx[m, b] * (d[n, b] * sc[n, b]), acc)
 *           acc = fma(-(dx[m, b] * (float) sum_i qx[m, 32b + i]), dmin[n, b] * mn[n, b], acc)
 *   y = acc + bias[n]                                      (no bias: y = acc)
 * </pre>
 * Q8_0 and Q4_0 have sLo = sHi = 1, which makes the term (float) s * (dx * d), llama.cpp's own order. Each step is
 * rounded as written (Java does not contract a * b + c into a fused multiply-add; fma is one rounding). Q4_K's
 * products d * sc and dmin * mn are exact in float (an fp16 times a 6-bit integer), so the integer scale costs no
 * rounding, and a kernel's per-block steps for a row of x and 16 weight rows are four vector operations on scales it
 * makes once for all its rows of x (before: two integer multiplies and six float steps; 128-token prefill of the 1B
 * Q4_K_M model 608 -> 532 ms on the AMD EPYC, docs/cpu-speed.md).
 * Rows run in parallel when the
 * weight's memory may be read from other threads (each output is computed alone, so the result does not depend on
 * it).
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
            WeightRow row = new WeightRow(w.format(), k).read(w, j);
            for (int r = 0; r < m; r++) {
                float acc = 0f;
                for (int b = 0; b < nb; b++) {
                    int at = r * k + b * BlockFormat.BLOCK, wt = b * BlockFormat.BLOCK;
                    int lo = 0, hi = 0, sum = 0;
                    for (int i = 0; i < 16; i++) lo += x[at + i] * row.q[wt + i];
                    for (int i = 16; i < 32; i++) hi += x[at + i] * row.q[wt + i];
                    float xd = dx[r * nb + b];
                    if (row.hasMins()) {   // Q4_K: sLo = sHi = sc, exact in d * sc; then the min term
                        for (int i = 0; i < 32; i++) sum += x[at + i];
                        acc = Math.fma((float) (lo + hi), xd * (row.d[b] * row.scaleLo[b]), acc);
                        acc = Math.fma(-(xd * (float) sum), row.dmin[b] * row.min[b], acc);
                    } else {
                        acc = acc + (float) (row.scaleLo[b] * lo + row.scaleHi[b] * hi) * (xd * row.d[b]);
                    }
                }
                y[r * n + j] = bias == null ? acc : acc + bias[j];
            }
        });
        return y;
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
