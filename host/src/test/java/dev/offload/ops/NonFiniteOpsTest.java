package dev.offload.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.attention.AttentionProblem;
import dev.offload.ops.attention.AttentionReference;
import dev.offload.ops.attention.AttentionShape;
import dev.offload.ops.attention.FusedAttention;
import dev.offload.ops.attention.Mask;
import dev.offload.ops.attention.Storage;
import dev.offload.ops.attention.UnfusedAttention;
import dev.offload.ops.gemm.Activation;
import dev.offload.ops.gemm.Epilogue;
import dev.offload.ops.gemm.GemmConfig;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.PackedWeights;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.ops.quant.Quantize;
import dev.offload.ops.quant.QuantizeReference;
import dev.offload.ops.sparse.CsrMatrix;
import dev.offload.ops.sparse.DenseMatrix;
import dev.offload.ops.sparse.Spmm;
import dev.offload.ops.sparse.SpmmReference;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.NonFinite;
import java.util.Random;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kernels the single-op commands run keep NaN and infinities where their references do, with NaN, +inf and -inf
 * injected: the GEMM epilogues (scales, bias, every activation; requantize saturates an infinite product, as the
 * kernel does, where the reference's long sum used to wrap), float SpMM, the quantize ops (the documented rule:
 * a tensor or row holding a non-finite value has scale NaN and data 0) and attention in every kernel (fused one row
 * and 16 rows per work-item, with key splits for decode, unfused; a NaN in the query, a key, a value or the mask).
 */
class NonFiniteOpsTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();
    private static final double TOLERANCE = 1e-4;

    private static float[] normal(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void gemmEpiloguesWithASpecialScaleOrBias(float special) {
        Random r = new Random(5);
        OpenClDevice cl = CL.device();
        int m = 5, k = 7, n = 6;
        byte[] ab = new byte[m * k], bb = new byte[k * n];
        r.nextBytes(ab);
        r.nextBytes(bb);
        Int8Matrix a = new Int8Matrix(QuantType.INT8, m, k, ab), b = new Int8Matrix(QuantType.INT8, k, n, bb);
        Int8Gemm gemm = new Int8Gemm(cl, GemmConfig.resolve(cl.info()).config());
        int[] c = Int8GemmReference.matmulInteger(a, ZeroPoint.scalar(0), b, ZeroPoint.scalar(0));
        try (PackedWeights w = gemm.pack(b, ZeroPoint.scalar(0))) {
            for (Activation act : Activation.values()) {
                float[] sa = {0.01f, 0.02f, 0.03f, 0.01f, 0.02f}, sw = {.1f, .2f, .3f, .1f, .2f, .3f}, bias = {1, -1, 2, -2, 3, -3};
                sa[2] = special;
                sw[4] = special;
                bias[1] = special;
                var d = new Epilogue.Dequantize(sa, sw, bias, act);
                float[] want = Int8GemmReference.dequantize(c, m, n, d);
                NonFinite.assertAgree(special + " dequantize " + act, want, gemm.dequantize(a, ZeroPoint.scalar(0), w, d), TOLERANCE);
                assertTrue(NonFinite.count(want, "finite") > 0 && NonFinite.count(want, "finite") < want.length, "both kinds are checked");
            }
            float[] scale = {.01f, .02f, .03f, .01f, .02f, .03f};
            scale[2] = special;
            var rq = new Epilogue.Requantize(scale, 3, QuantType.INT8);
            NonFinite.assertAgree(special + " requantize", Int8GemmReference.requantize(c, m, n, rq), gemm.requantize(a, ZeroPoint.scalar(0), w, rq));
        }
    }

    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void floatSpmmWithASpecialInEitherOperand(float special) {
        Random r = new Random(6);
        int m = 5, k = 7, n = 6;
        float[] a = normal(r, m * k), b = normal(r, k * n);
        for (int i = 0; i < a.length; i += 3) a[i] = 0;
        a[1] = special;
        b[k * n - 2] = special;
        CsrMatrix csr = CsrMatrix.fromDense(DenseMatrix.ofFloat32(m, k, a));
        NonFinite.assertAgree(special + " spmm", SpmmReference.multiplyFloat32(csr, b, n), new Spmm(CL.device()).multiplyFloat32(csr, b, n).value(), TOLERANCE);
    }

    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void quantizeOpsFollowTheDocumentedRule(float special) {
        Random r = new Random(7);
        float[] x = normal(r, 40);
        x[7] = special;
        Quantize q = new Quantize(CL.device());
        var want = QuantizeReference.dynamicQuantizeLinear(x);
        var got = q.dynamicQuantizeLinear(x);
        NonFinite.assertAgree(special + " DynamicQuantizeLinear", want.data(), got.data());
        assertTrue(Float.isNaN(want.scale()) && Float.isNaN(got.scale()), "scale NaN");
        assertEquals(0, want.zeroPoint());
        assertEquals(0, got.zeroPoint());
        var wantRows = QuantizeReference.symmetricPerRow(x, 4, 10);
        var gotRows = q.symmetricPerRow(x, 4, 10);
        NonFinite.assertAgree(special + " symmetric per row", wantRows.data(), gotRows.data());
        NonFinite.assertAgree(special + " symmetric per row scales", wantRows.scales(), gotRows.scales(), 0);
        assertTrue(Float.isNaN(gotRows.scales()[0]) && Float.isFinite(gotRows.scales()[1]), "only row 0 holds the value");
    }

    /** Attention on the head-major command path: 3 and 20 query rows (both fused kernels), 1 row over 3000 keys (splits). */
    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void attentionInEveryKernel(float special) {
        Random r = new Random(8);
        OpenClDevice cl = CL.device();
        int h = 2, d = 16;
        for (int sq : new int[] {3, 20, 1}) {
            int skv = sq == 1 ? 3000 : 24, row = Math.min(1, sq - 1);
            AttentionShape shape = AttentionShape.of(1, h, sq, skv, d);
            for (char where : new char[] {'q', 'k', 'v', 'm'}) {
                // Plain, causal, causal with a sliding window of 4 keys, and soft-capped scores (Gemma 2's, a cap of 0.7).
                for (int variant = 0; variant < 4; variant++) {
                    boolean causal = variant == 1 || variant == 2;
                    float[] q = normal(r, h * sq * d), k = normal(r, h * skv * d), v = normal(r, h * skv * d), mask = new float[sq * skv];
                    switch (where) {
                        case 'q' -> q[d * row + 3] = special;        // head 0, query row 1
                        case 'k' -> k[d * 5 + 2] = special;          // head 0, key 5
                        case 'v' -> v[d * 7 + 1] = special;          // head 0, value 7
                        default -> mask[row * skv + 4] = special;    // query row 1, key 4
                    }
                    Mask m = new Mask(causal, null, where == 'm' ? new Mask.Additive(mask, Mask.Layout.QUERY_KEY) : null, variant == 2 ? 4 : 0);
                    AttentionProblem p = new AttentionProblem(shape, m, shape.defaultScale(), Storage.FLOAT32).withSoftcap(variant == 3 ? 0.7f : 0f);
                    String label = causal ? variant == 2 ? " causal window 4" : " causal" : variant == 3 ? " softcap 0.7" : "";
                    float[] want = AttentionReference.compute(p, q, k, v);
                    for (boolean fused : new boolean[] {true, false}) {
                        if (!fused && sq == 1) continue;
                        try (Buffer qb = cl.upload(q); Buffer kb = cl.upload(k); Buffer vb = cl.upload(v);
                             Buffer ob = cl.context().createBuffer(4L * want.length)) {
                            if (fused) new FusedAttention(cl).run(p, qb, kb, vb, ob); else new UnfusedAttention(cl).run(p, qb, kb, vb, ob);
                            NonFinite.assertAgree(special + (fused ? " fused" : " unfused") + " Sq=" + sq + label + " in " + where,
                                    want, cl.readFloats(ob, want.length), TOLERANCE);
                        }
                    }
                    if (where == 'q' && Float.isNaN(special)) {
                        for (int c = 0; c < d; c++) assertTrue(Float.isNaN(want[row * d + c]), "a NaN query row is NaN in the reference");
                    }
                }
            }
        }
    }
}
