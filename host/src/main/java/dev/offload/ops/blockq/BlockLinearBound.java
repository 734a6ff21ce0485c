package dev.offload.ops.blockq;

import dev.offload.math.ParallelRows;
import dev.offload.validate.CheckResult;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * How far a kernel's block-quantized linear may be from {@link BlockLinearReference}, element by element, and the
 * comparison that checks it.
 *
 * <p>The integer block sums are exact everywhere; only the float sum's order differs. The reference adds nb = K/32
 * terms t_b = (float) s_b * (dx_b * dw_b) one after another, then the bias. A kernel may split each block's sum
 * into partial sums p (at most 16 per block, e.g. one per vector lane: sum_p p = s_b exactly), scale each, add
 * them in any order (one chain per lane over the blocks, then a tree of at most 4 levels over the lanes), with or
 * without fused multiply-adds. With u = 2^-24 and S = sum_b |dx_b| (|d_b| sum_i |s_i qx_i q_i| + |dmin_b| mn_b
 * sum_i |qx_i|) (s_i the integer scale of value i; the dmin term only for Q4_K), which bounds the sum of |terms| of
 * any such split:
 * <pre>
 *   |reference - exact| <= (nb + 1) u (S + |bias|)          (nb + 1 roundings on a chain of terms: nb sums, the bias)
 *   |kernel    - exact| <= (nb + 6) u (S + |bias|)          (nb on a lane's chain, 4 over the lanes, the bias, a product)
 *   |kernel - reference| <= (2 nb + 7) u (S + |bias|)  <=  (nb + 4) * 2^-22 * (S + |bias|)
 * </pre>
 * (each to first order in nb u, which is below 2^-13 for K < 2^16). A Q4_K block takes two fused steps into the sum
 * (its two parts each one product and one fma: 2 nb roundings on the chain, 2 u on each part), which (4 nb + 11) u
 * still leaves under the same (nb + 4) 2^-22 = (4 nb + 16) u.
 * The bound is asserted per element. Where the
 * reference is not finite (a NaN or an infinity in x makes its block's scale NaN or infinite), the kernel must give
 * the same: NaN where it gives NaN, the same infinity where it gives one.
 */
public final class BlockLinearBound {
    private BlockLinearBound() {}

    /** The allowed |kernel - reference| of every output, [m][n]. */
    public static double[] bounds(byte[] x, float[] dx, int m, BlockMatrix w, float[] bias) {
        BlockLinearReference.check(x, dx, m, w, bias);
        int k = w.cols(), n = w.rows(), nb = w.blocksPerRow();
        double[] out = new double[m * n];
        (w.readableEverywhere() ? ParallelRows.of(n, (long) m * k) : IntStream.range(0, n)).forEach(j -> {
            WeightRow row = new WeightRow(w.format(), k).read(w, j);
            for (int r = 0; r < m; r++) {
                double s = bias == null ? 0 : Math.abs(bias[j]);
                for (int b = 0; b < nb; b++) {
                    int at = r * k + b * BlockFormat.BLOCK, wt = b * BlockFormat.BLOCK;
                    long abs = 0, xAbs = 0;
                    for (int i = 0; i < BlockFormat.BLOCK; i++) {
                        abs += Math.abs((long) (i < 16 ? row.scaleLo[b] : row.scaleHi[b]) * x[at + i] * row.q[wt + i]);
                        xAbs += Math.abs(x[at + i]);
                    }
                    s += Math.abs((double) dx[r * nb + b]) * (Math.abs((double) row.d[b]) * abs + Math.abs((double) row.dmin[b]) * row.min[b] * xAbs);
                }
                out[r * n + j] = (nb + 4) * 0x1p-22 * s;
            }
        });
        return out;
    }

    /**
     * Checks every output against its bound. maxError is the largest |got - want| / bound (so the case passes at
     * <= 1); a non-finite reference must be matched exactly in kind, and a non-finite result where the reference is
     * finite (poison left in place) always fails.
     */
    public static CheckResult compare(String op, String shape, String device, float[] want, float[] got, double[] bound,
                                      boolean guardsIntact) {
        if (want.length != got.length) {
            return new CheckResult(op, shape, device, Double.POSITIVE_INFINITY, 1, false, "length " + got.length + " != " + want.length);
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < want.length; i++) {
            boolean same = Float.isNaN(want[i]) ? Float.isNaN(got[i]) : !Float.isFinite(want[i]) ? got[i] == want[i] : Float.isFinite(got[i]);
            if (!same) {
                return new CheckResult(op, shape, device, Double.POSITIVE_INFINITY, 1, false,
                        "element " + i + " is " + got[i] + ", want " + want[i] + (Float.isNaN(got[i]) && Float.isFinite(want[i]) ? " (poison left, or a NaN made)" : ""));
            }
            if (!Float.isFinite(want[i])) continue;
            double e = Math.abs((double) got[i] - want[i]);
            double ratio = e == 0 ? 0 : bound[i] == 0 ? Double.POSITIVE_INFINITY : e / bound[i];
            if (ratio > worst || at < 0) {
                worst = Math.max(worst, ratio);
                at = i;
            }
        }
        boolean ok = worst <= 1 && guardsIntact;
        String detail = worst > 1 ? String.format(Locale.ROOT, "worst at %d: got %s, want %s, |error| %.3g > bound %.3g", at, got[at], want[at],
                Math.abs((double) got[at] - want[at]), bound[at])
                : guardsIntact ? "" : "out-of-bounds write: a guard region was overwritten";
        return new CheckResult(op, shape, device, worst, 1, ok, detail);
    }
}
