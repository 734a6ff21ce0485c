package dev.offload.compress;

import dev.offload.model.FactorizedLinear;
import dev.offload.model.FloatLinearWeights;
import dev.offload.model.QuantizedLinear;
import java.util.Map;
import java.util.WeakHashMap;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Low-rank factorization of one int8 linear: its weight W [K, N], dequantized with its per-column scales (and zero
 * points), is decomposed by SVD (EJML, in double), W = U S V^T, and replaced by W ~ A·B with A = U_r sqrt(S_r) [K, r]
 * and B = sqrt(S_r) V_r^T [r, N], r the smallest rank that keeps {@code target} of the squared singular values (the
 * energy) rounded up to a multiple of 16 ({@link #width}). By Eckart-Young, ||W - A·B||_F^2 is exactly the discarded
 * sum s_r^2 + ... before quantization. Splitting sqrt(S) over both sides gives the factors the same scale, so neither is much harder to quantize than the other.
 * A and B are then quantized as ONNX Runtime's dynamic quantizer quantizes a float weight, symmetric int8 per output
 * column ({@link FloatLinearWeights#quantizeInt8}); the bias stays on B.
 *
 * <p>A layer is factorized only where it saves work: r (K + N) multiply-adds per row against K N. Otherwise it stays
 * as it was (dense, not re-quantized).
 */
final class LowRankFactorization {
    private LowRankFactorization() {}

    /** A weight's thin SVD: u [K, m], s descending [m], vt [m, N], m = min(K, N), all row-major. */
    record Svd(int k, int n, double[] u, double[] s, double[] vt) {
        int fullRank() { return s.length; }
    }

    /** What the target made of one linear: its energy rank, and the factorized layer (null: it stays dense). */
    record Choice(int rank, int fullRank, FactorizedLinear factorized) {}

    /**
     * Decompositions made, by the linear they decompose (a record of arrays: equal means the same weight, scale and
     * zero-point arrays; dropped with the model), so a sweep of targets over one model decomposes each weight once.
     */
    private static final Map<QuantizedLinear, Svd> made = new WeakHashMap<>();

    static Choice choose(QuantizedLinear q, double target) {
        Svd svd = svdOf(q);
        int r = width(rank(svd.s(), target), svd.fullRank());
        return new Choice(r, svd.fullRank(), pays(q.inputs(), q.outputs(), r) ? factorize(svd, r, q.bias()) : null);
    }

    /**
     * The rank a factorization is made at: the energy rank rounded up to a multiple of
     * {@link CompressionSpec#WIDTH_MULTIPLE} (at most the full rank), so the first factor's output width, the N of its
     * MatMulInteger, is one ONNX Runtime computes correctly everywhere (see WIDTH_MULTIPLE); it keeps at least the
     * target energy.
     */
    static int width(int energyRank, int fullRank) {
        int m = CompressionSpec.WIDTH_MULTIPLE;
        return Math.min(fullRank, (energyRank + m - 1) / m * m);
    }

    /** True when two factors of rank r take fewer multiply-adds than the dense K x N weight. */
    static boolean pays(int k, int n, int r) { return (long) r * (k + n) < (long) k * n; }

    /** The smallest r whose leading squared singular values sum to at least {@code target} of all of them. */
    static int rank(double[] s, double target) {
        double total = 0;
        for (double v : s) total += v * v;
        double kept = 0;
        for (int r = 0; r < s.length; r++) {
            kept += s[r] * s[r];
            if (kept >= target * total) return r + 1;
        }
        return s.length;   // rounding: the running sum ends at the total
    }

    static Svd svdOf(QuantizedLinear q) {
        synchronized (made) {
            Svd s = made.get(q);
            if (s != null) return s;
        }
        Svd s = svd(dequantized(q), q.inputs(), q.outputs());
        synchronized (made) { made.put(q, s); }
        return s;
    }

    /** (w - zeroPoint) * scale per column, [K, N] row-major. */
    static double[] dequantized(QuantizedLinear q) {
        int k = q.inputs(), n = q.outputs();
        double[] w = new double[k * n];
        for (int kk = 0; kk < k; kk++) {
            for (int j = 0; j < n; j++) w[kk * n + j] = (q.weight()[kk * n + j] - q.zeroPoint(j)) * (double) q.scale()[j];
        }
        return w;
    }

    static Svd svd(double[] w, int k, int n) {
        DMatrixRMaj m = DMatrixRMaj.wrap(k, n, w.clone());   // the decomposition may overwrite its input
        SingularValueDecomposition_F64<DMatrixRMaj> d = DecompositionFactory_DDRM.svd(k, n, true, true, true);
        if (!d.decompose(m)) throw new IllegalStateException("the SVD of a " + k + " x " + n + " weight did not converge");
        DMatrixRMaj u = d.getU(null, false), vt = d.getV(null, true), s = d.getW(null);
        SingularOps_DDRM.descendingOrder(u, false, s, vt, true);
        int full = Math.min(k, n);
        double[] sv = new double[full];
        for (int i = 0; i < full; i++) sv[i] = s.get(i, i);
        return new Svd(k, n, u.getData(), sv, vt.getData());
    }

    /** A = U_r sqrt(S_r) [K, r] and B = sqrt(S_r) V_r^T [r, N], in float (what is quantized). */
    static float[][] factors(Svd svd, int r) {
        int k = svd.k(), n = svd.n(), m = svd.fullRank();
        float[] a = new float[k * r], b = new float[r * n];
        for (int i = 0; i < r; i++) {
            double root = Math.sqrt(svd.s()[i]);
            for (int kk = 0; kk < k; kk++) a[kk * r + i] = (float) (svd.u()[kk * m + i] * root);
            for (int j = 0; j < n; j++) b[i * n + j] = (float) (svd.vt()[i * n + j] * root);
        }
        return new float[][] {a, b};
    }

    static FactorizedLinear factorize(Svd svd, int r, float[] bias) {
        float[][] f = factors(svd, r);
        QuantizedLinear a = new FloatLinearWeights(svd.k(), r, f[0], new float[r]).quantizeInt8();
        QuantizedLinear b = new FloatLinearWeights(r, svd.n(), f[1], bias).quantizeInt8();
        return new FactorizedLinear(a, b);
    }
}
