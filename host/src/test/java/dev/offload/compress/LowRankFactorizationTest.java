package dev.offload.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.EncoderModel;
import dev.offload.model.FactorizedLinear;
import dev.offload.model.Linear;
import dev.offload.model.ModelCatalog;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.onnx.EncoderImporter;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Low-rank factorization keeps what it promises: the rank is the smallest that keeps the target energy, the factors'
 * product misses W by exactly the discarded singular values (Eckart-Young), their int8 forms by no more than their
 * rounding adds, and a layer is factorized only where two factors take less work than the dense weight.
 */
class LowRankFactorizationTest {
    /** float rounding of a value: the factors are stored as float before they are quantized. */
    static final double FLOAT_EPS = Math.ulp(1f);

    static EncoderModel model;

    @BeforeAll
    static void load() {
        ModelCatalog m = ModelCatalog.ALL_MINILM_L6_V2_Q;
        model = EncoderImporter.importBytes(m.onnxBytes(), m.onnxEntry);
    }

    /** A seeded int8 linear [k, n] with per-column scales, every third column with a non-zero zero point, a bias. */
    static QuantizedLinear random(long seed, int k, int n) {
        Random r = new Random(seed);
        byte[] w = new byte[k * n];
        for (int i = 0; i < w.length; i++) w[i] = (byte) (r.nextInt(255) - 127);
        float[] scale = new float[n], bias = new float[n];
        int[] zp = new int[n];
        for (int j = 0; j < n; j++) {
            scale[j] = 0.001f + 0.02f * r.nextFloat();
            bias[j] = r.nextFloat() - 0.5f;
            zp[j] = j % 3 == 0 ? r.nextInt(21) - 10 : 0;
        }
        return new QuantizedLinear(k, n, w, scale, zp, bias);
    }

    static final int[][] SHAPES = {{37, 23}, {19, 53}, {64, 64}, {1, 7}};
    static final double[] TARGETS = {0.3, 0.8, 0.95, 0.999, 1};

    /** ||x||_F^2 of a [rows, cols] matrix. */
    static double norm2(double[] x) { double s = 0; for (double v : x) s += v * v; return s; }

    static double[] product(double[] a, double[] b, int k, int r, int n) {
        double[] p = new double[k * n];
        for (int i = 0; i < k; i++) for (int t = 0; t < r; t++) for (int j = 0; j < n; j++) p[i * n + j] += a[i * r + t] * b[t * n + j];
        return p;
    }

    static double[] minus(double[] a, double[] b) { double[] d = new double[a.length]; for (int i = 0; i < a.length; i++) d[i] = a[i] - b[i]; return d; }

    static double[] widen(float[] f) { double[] d = new double[f.length]; for (int i = 0; i < f.length; i++) d[i] = f[i]; return d; }

    /** A factor as its real values: weight * scale per column (symmetric, so no zero point). */
    static double[] dequantized(QuantizedLinear q) { return LowRankFactorization.dequantized(q); }

    static double discarded(double[] s, int r) { double d = 0; for (int i = r; i < s.length; i++) d += s[i] * s[i]; return d; }

    @Test
    void theRankIsTheSmallestThatKeepsTheTargetEnergy() {
        for (int[] shape : SHAPES) {
            LowRankFactorization.Svd svd = LowRankFactorization.svdOf(random(shape[0] * 31L + shape[1], shape[0], shape[1]));
            double[] s = svd.s();
            for (int i = 1; i < s.length; i++) assertTrue(s[i - 1] >= s[i], "singular values descending");
            double total = norm2(s);
            for (double target : TARGETS) {
                int r = LowRankFactorization.rank(s, target);
                assertTrue(r >= 1 && r <= Math.min(shape[0], shape[1]));
                assertTrue(total - discarded(s, r) >= target * total * (1 - 1e-12), "rank " + r + " keeps the target");
                if (r > 1) assertTrue(total - discarded(s, r - 1) < target * total, "rank " + (r - 1) + " would have been enough");
            }
            assertEquals(s.length, LowRankFactorization.rank(s, 1), "target 1 keeps the full rank");
        }
    }

    /**
     * ||W - A·B||_F = sqrt(s_r^2 + ...) for the float factors, up to their float rounding: each factor value is within
     * FLOAT_EPS/2 relative of its double, so A·B moves by at most FLOAT_EPS ||A||_F ||B||_F (plus the double sums', far
     * smaller: 1e-9 of ||W||_F covers them).
     */
    @Test
    void theFactorsProductMissesTheWeightByExactlyTheDiscardedEnergy() {
        for (int[] shape : SHAPES) {
            int k = shape[0], n = shape[1];
            QuantizedLinear q = random(k * 131L + n, k, n);
            double[] w = LowRankFactorization.dequantized(q);
            LowRankFactorization.Svd svd = LowRankFactorization.svdOf(q);
            for (double target : TARGETS) {
                int r = LowRankFactorization.rank(svd.s(), target);
                float[][] f = LowRankFactorization.factors(svd, r);
                double[] a = widen(f[0]), b = widen(f[1]);
                double error = Math.sqrt(norm2(minus(w, product(a, b, k, r, n)))), want = Math.sqrt(discarded(svd.s(), r));
                double bound = FLOAT_EPS * Math.sqrt(norm2(a) * norm2(b)) + 1e-9 * Math.sqrt(norm2(w));
                assertEquals(want, error, bound, k + "x" + n + " at " + target + " (rank " + r + ")");
            }
        }
    }

    /**
     * The int8 factors: every value within half its column's scale of the float factor (symmetric per output column,
     * scale = max |column| / 127), so W - Aq·Bq = (W - A·B) + (A - Aq)·B + Aq·(B - Bq) is bounded by the discarded
     * energy plus ||A - Aq|| ||B|| + ||Aq|| ||B - Bq|| (Frobenius norms), and the bias rides on the second factor.
     */
    @Test
    void theInt8FactorsAddNoMoreThanTheirRounding() {
        for (int[] shape : SHAPES) {
            int k = shape[0], n = shape[1];
            QuantizedLinear q = random(k * 7L + n, k, n);
            double[] w = LowRankFactorization.dequantized(q);
            LowRankFactorization.Svd svd = LowRankFactorization.svdOf(q);
            for (double target : TARGETS) {
                int r = LowRankFactorization.rank(svd.s(), target);
                float[][] f = LowRankFactorization.factors(svd, r);
                FactorizedLinear fl = LowRankFactorization.factorize(svd, r, q.bias());
                assertEquals(r, fl.rank());
                assertSame(q.bias(), fl.bias(), "the layer's bias, unchanged, on the second factor");
                assertTrue(fl.first().zeroPoint() == null && fl.second().zeroPoint() == null, "symmetric factors");
                double[] aq = dequantized(fl.first()), bq = dequantized(fl.second());
                withinHalfAScale(f[0], fl.first());
                withinHalfAScale(f[1], fl.second());
                double[] a = widen(f[0]), b = widen(f[1]);
                double error = Math.sqrt(norm2(minus(w, product(aq, bq, k, r, n))));
                double bound = Math.sqrt(norm2(minus(w, product(a, b, k, r, n))))
                        + Math.sqrt(norm2(minus(a, aq)) * norm2(b)) + Math.sqrt(norm2(aq) * norm2(minus(b, bq)));
                assertTrue(error <= bound * (1 + 1e-9), k + "x" + n + " at " + target + ": " + error + " > " + bound);
            }
        }
    }

    private static void withinHalfAScale(float[] real, QuantizedLinear q) {
        int k = q.inputs(), n = q.outputs();
        for (int j = 0; j < n; j++) {
            float max = 0;
            for (int i = 0; i < k; i++) max = Math.max(max, Math.abs(real[i * n + j]));
            assertEquals(max == 0 ? 1f : max / 127f, q.scale()[j], "column " + j + "'s scale");
            for (int i = 0; i < k; i++) {
                double d = Math.abs(real[i * n + j] - q.weight()[i * n + j] * (double) q.scale()[j]);
                // Half a step, plus the float rounding of the quotient value / scale (at most 127 steps): 127 ulps of 1.
                assertTrue(d <= q.scale()[j] * (0.5 + 127 * FLOAT_EPS), "value [" + i + "][" + j + "] rounds to the nearest step");
            }
        }
    }

    @Test
    void theRankIsTheEnergyRankRoundedUpToSixteenAndNeverPastTheFullRank() {
        assertEquals(16, LowRankFactorization.width(1, 384));
        assertEquals(16, LowRankFactorization.width(16, 384));
        assertEquals(32, LowRankFactorization.width(17, 384));
        assertEquals(40, LowRankFactorization.width(37, 40), "a full rank below the next multiple is the limit");
        QuantizedLinear q = random(11, 64, 48);
        double[] s = LowRankFactorization.svdOf(q).s();
        for (double target : new double[] {0.3, 0.6, 0.9}) {
            LowRankFactorization.Choice c = LowRankFactorization.choose(q, target);
            assertEquals(LowRankFactorization.width(LowRankFactorization.rank(s, target), s.length), c.rank(), "target " + target);
            assertTrue(c.rank() >= LowRankFactorization.rank(s, target), "the rounded rank keeps at least the target energy");
        }
    }

    @Test
    void aLayerIsFactorizedOnlyWhereTwoFactorsTakeLessWork() {
        assertTrue(LowRankFactorization.pays(384, 384, 191));
        assertFalse(LowRankFactorization.pays(384, 384, 192), "192 (384 + 384) = 384 * 384: no saving");
        assertTrue(LowRankFactorization.pays(384, 1536, 307));
        assertFalse(LowRankFactorization.pays(384, 1536, 308));
        QuantizedLinear q = random(5, 40, 40);
        LowRankFactorization.Choice full = LowRankFactorization.choose(q, 1);
        assertEquals(40, full.rank());
        assertNull(full.factorized(), "full rank stays dense");
        LowRankFactorization.Choice low = LowRankFactorization.choose(q, 0.2);
        assertTrue(low.rank() < 20 && low.factorized() != null && low.factorized().rank() == low.rank());
    }

    /**
     * On all-MiniLM-L6-v2-q at 0.9: every linear that pays is factorized at its energy rank rounded up to a multiple of
     * 16 (ONNX Runtime's AMX MatMulInteger needs such widths: CompressionSpec.WIDTH_MULTIPLE); the others are the originals.
     */
    @Test
    void onMiniLmEachLinearHasItsEnergyRankOrStaysDense() {
        Compressor.Compressed c = Compressor.compress(model, CompressionSpec.of(Method.LOW_RANK, 0.9));
        int factorized = 0;
        for (int i = 0; i < model.layers().size(); i++) {
            List<Linear> was = CompressedModelFile.linears(model.layers().get(i)), now = CompressedModelFile.linears(c.model().layers().get(i));
            for (int j = 0; j < was.size(); j++) {
                QuantizedLinear q = (QuantizedLinear) was.get(j);
                double[] sv = LowRankFactorization.svdOf(q).s();
                int r = LowRankFactorization.width(LowRankFactorization.rank(sv, 0.9), sv.length);
                assertTrue(r % CompressionSpec.WIDTH_MULTIPLE == 0 || r == sv.length, "rank " + r + " is a multiple of 16");
                if (LowRankFactorization.pays(q.inputs(), q.outputs(), r)) {
                    FactorizedLinear f = assertInstanceOf(FactorizedLinear.class, now.get(j), "layer " + i + " linear " + j);
                    assertEquals(r, f.rank(), "layer " + i + " linear " + j);
                    assertEquals(q.inputs(), f.inputs());
                    assertEquals(q.outputs(), f.outputs());
                    assertSame(f, c.replaced().get(q));
                    factorized++;
                } else {
                    assertSame(q, now.get(j), "layer " + i + " linear " + j + " (rank " + r + ") stays dense");
                    assertFalse(c.replaced().containsKey(q));
                }
            }
        }
        assertEquals(factorized, c.replaced().size());
        assertTrue(factorized > 0, "0.9 factorizes some of MiniLM's linears");
        assertTrue(c.notes().getFirst().startsWith(factorized + " of 36 linears factorized"), c.notes().getFirst());

        Compressor.Compressed all = Compressor.compress(model, CompressionSpec.of(Method.LOW_RANK, 1));
        assertTrue(all.replaced().isEmpty(), "at full rank nothing pays");
        for (int i = 0; i < model.layers().size(); i++) assertEquals(model.layers().get(i), all.model().layers().get(i));
    }
}
