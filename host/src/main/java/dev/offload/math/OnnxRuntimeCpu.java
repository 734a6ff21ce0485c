package dev.offload.math;

/**
 * ONNX Runtime's CPU float arithmetic for the ops of an exported BERT graph, reproduced operation for operation, so
 * that offload rounds every intermediate exactly as ONNX Runtime (1.23, graph optimizations off, CPU provider on an
 * x86-64 CPU with AVX-512F) does.
 *
 * <p>Why it matters: an int8 model re-quantizes its activations to uint8 before every linear layer. A value that
 * lies within a float rounding of a .5 quantum rounds to the other integer when any earlier sum was added in
 * another order, and later layers amplify that one-quantum step (sentence cosines of 0.996 against ONNX Runtime
 * instead of 0.99999+). Reproducing ORT's rounding removes the flips. What was measured (OrtTraceMain: every
 * intermediate of the graph compared bit for bit, ORT's own inputs fed to these functions): elementwise Add, Sub,
 * Mul, Div, Sqrt and Pow(x, 2) are single IEEE operations (plain Java float arithmetic); the others are:
 * <ul>
 *   <li>ReduceMean over the last axis: Eigen's vectorized sum, compiled for SSE ({@link #sum}), divided by n;</li>
 *   <li>float MatMul (MLAS SGEMM): one fused multiply-add chain per output over k in order, from 0
 *       ({@link #dot}); the K dimension of attention's products fits in one SGEMM K block;</li>
 *   <li>Softmax (MlasComputeSoftmax with the AVX-512F sum-of-exponentials kernel): an exp polynomial with fused
 *       multiply-adds ({@link #expShifted}), summed in 16 lanes and reduced in a fixed tree, then each exp
 *       multiplied by 1 / sum ({@link #softmax});</li>
 *   <li>Erf (MLAS's FMA3 kernel, which ORT also picks on AVX-512 CPUs): two polynomials split at |x| = 0.921875,
 *       the larger one through an exp polynomial ({@link #erf}).</li>
 * </ul>
 * OpenCL kernels that must agree with this class (layers.cl: layer_norm_onnx, attention_onnx; int8_gemm.cl:
 * GELU_ERF_ONNX) compute the same operations in the same order with explicit fma().
 */
public final class OnnxRuntimeCpu {
    private OnnxRuntimeCpu() {}

    // ---- ReduceMean ------------------------------------------------------------------------------------

    /** Lanes of Eigen's SSE packet. */
    private static final int PACKET = 4;

    /**
     * Eigen's vectorized sum of x[offset, offset + n) as ONNX Runtime's ReduceSum/ReduceMean run it over the last
     * axis: two 4-lane accumulators take alternate packets, are added lane by lane, a last odd packet joins the
     * first, the 4 lanes reduce as (l0 + l2) + (l1 + l3), and the elements past the last whole packet follow one by
     * one; fewer than 4 elements are summed in order. Eigen starts its packets at the first 16-byte aligned element;
     * ORT's buffers are 64-byte aligned, so this is exact for the first row of a tensor and for every row when n is
     * a multiple of 4 (hidden sizes are); other rows of other widths would start their packets later.
     */
    public static float sum(float[] x, int offset, int n) {
        if (n < PACKET) {
            float s = x[offset];
            for (int i = 1; i < n; i++) s += x[offset + i];
            return s;
        }
        int packets = n / PACKET, pairsEnd = n / (2 * PACKET) * (2 * PACKET), end = packets * PACKET;
        float a0 = x[offset], a1 = x[offset + 1], a2 = x[offset + 2], a3 = x[offset + 3];
        int i = PACKET;
        if (packets > 1) {
            float b0 = x[offset + 4], b1 = x[offset + 5], b2 = x[offset + 6], b3 = x[offset + 7];
            for (i = 2 * PACKET; i < pairsEnd; i += 2 * PACKET) {
                int o = offset + i;
                a0 += x[o]; a1 += x[o + 1]; a2 += x[o + 2]; a3 += x[o + 3];
                b0 += x[o + 4]; b1 += x[o + 5]; b2 += x[o + 6]; b3 += x[o + 7];
            }
            a0 += b0; a1 += b1; a2 += b2; a3 += b3;
            if (end > pairsEnd) {
                int o = offset + pairsEnd;
                a0 += x[o]; a1 += x[o + 1]; a2 += x[o + 2]; a3 += x[o + 3];
            }
            i = end;
        }
        float s = (a0 + a2) + (a1 + a3);
        for (; i < n; i++) s += x[offset + i];
        return s;
    }

    /** ReduceMean over the last axis: {@link #sum} divided by n in float. */
    public static float mean(float[] x, int offset, int n) { return sum(x, offset, n) / n; }

    /**
     * The decomposed LayerNorm of an exported BERT graph on one row, node by node: mean = ReduceMean(x);
     * d = x - mean; var = ReduceMean(d * d) (Pow(d, 2) is d * d); std = Sqrt(var + eps); y = d / std * gamma + beta.
     * {@code scratch} holds at least n floats.
     */
    public static void layerNorm(float[] x, int offset, int n, float[] gamma, float[] beta, float eps, float[] y, int yOffset,
                                 float[] scratch) {
        float mean = mean(x, offset, n);
        for (int i = 0; i < n; i++) {
            float d = x[offset + i] - mean;
            scratch[i] = d * d;
        }
        float std = (float) Math.sqrt(mean(scratch, 0, n) + eps);  // sqrt in double then rounded: the correctly rounded float sqrt
        for (int i = 0; i < n; i++) {
            float v = (x[offset + i] - mean) / std * gamma[i];
            y[yOffset + i] = beta == null ? v : v + beta[i];
        }
    }

    // ---- MatMul ----------------------------------------------------------------------------------------

    /** sum_k a[ao + k*as] * b[bo + k*bs] as MLAS SGEMM accumulates one output: fma(a_k, b_k, acc) for k = 0, 1, ... from 0. */
    public static float dot(float[] a, int ao, int as, float[] b, int bo, int bs, int k) {
        float acc = 0f;
        for (int i = 0; i < k; i++) acc = Math.fma(a[ao + i * as], b[bo + i * bs], acc);
        return acc;
    }

    // ---- Softmax ---------------------------------------------------------------------------------------

    private static final float EXP_LOWER = -103.9720840454f, ROUNDING_BIAS = 12582912.0f, LOG2E = 1.44269504088896341f,
            LN2_HIGH = -6.93145752e-1f, LN2_LOW = -1.42860677e-6f;
    private static final float P0 = 0x1.694000p-10f, P1 = 0x1.125edcp-7f, P2 = 0x1.555b5ap-5f, P3 = 0x1.555450p-3f,
            P4 = 0x1.fffff6p-2f, P56 = 1.0f;

    /**
     * exp(x + negativeMax) as MLAS's AVX-512F sum-of-exponentials kernel computes it: the sum rounded once, clamped
     * below at -103.97; m = round(x / ln 2) by the 1.5 * 2^23 trick; the reduced argument in two fma steps (ln 2 split
     * high/low); a degree-6 polynomial in fma steps; scaled by 2^m (VSCALEFPS, one rounding).
     */
    public static float expShifted(float x, float negativeMax) {
        float v = Math.max(EXP_LOWER, x + negativeMax);
        float biased = Math.fma(v, LOG2E, ROUNDING_BIAS);
        float m = biased - ROUNDING_BIAS;
        v = Math.fma(m, LN2_HIGH, v);
        v = Math.fma(m, LN2_LOW, v);
        float p = P0;
        p = Math.fma(p, v, P1);
        p = Math.fma(p, v, P2);
        p = Math.fma(p, v, P3);
        p = Math.fma(p, v, P4);
        p = Math.fma(p, v, P56);
        p = Math.fma(p, v, P56);
        return Math.scalb(p, (int) m);
    }

    /** Lanes of the AVX-512 accumulator the exponentials are summed in. */
    public static final int SOFTMAX_LANES = 16;

    /**
     * Softmax of x[offset, offset + n) in place, as MlasComputeSoftmax: max; e_j = {@link #expShifted}(x_j, -max);
     * lane j % 16 accumulates e_j in order; the 16 lanes reduce as {@link #reduceLanes}; every e_j is then multiplied
     * by 1 / sum (one float division, then a multiplication each).
     */
    public static void softmax(float[] x, int offset, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) max = Math.max(max, x[offset + j]);
        float[] lanes = new float[SOFTMAX_LANES];
        for (int j = 0; j < n; j++) {
            float e = expShifted(x[offset + j], -max);
            x[offset + j] = e;
            lanes[j % SOFTMAX_LANES] += e;
        }
        float inv = 1.0f / reduceLanes(lanes);
        for (int j = 0; j < n; j++) x[offset + j] *= inv;
    }

    /** The kernel's final reduction of its 16 lanes: a_i = l_i + l_(i+8), then ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)). */
    public static float reduceLanes(float[] l) {
        float a0 = l[0] + l[8], a1 = l[1] + l[9], a2 = l[2] + l[10], a3 = l[3] + l[11];
        float a4 = l[4] + l[12], a5 = l[5] + l[13], a6 = l[6] + l[14], a7 = l[7] + l[15];
        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    }

    // ---- Erf and GELU ----------------------------------------------------------------------------------

    private static final float ERF_UPPER = 3.925f, ERF_SPLIT = 0.921875f;
    private static final float S0 = -5.99104969e-4f, S1 = 4.99339588e-3f, S2 = -2.67667342e-2f, S3 = 1.12818025e-1f,
            S4 = -3.76124859e-1f, S5 = 1.28379151e-1f;
    private static final float B0 = 1.72948930e-5f, B1 = -3.83208680e-4f, B2 = 3.88393435e-3f, B3 = -2.42545605e-2f,
            B4 = 1.06777847e-1f, B5 = 6.34846687e-1f, B6 = 1.28717512e-1f;
    private static final float E_LOWER = -88.3762626647949f, E_C = 1.25829120e+7f, E0 = 1.38319808e-3f, E1 = 8.37550033e-3f,
            E2 = 4.16689515e-2f, E3 = 1.66664466e-1f, E4 = 4.99999851e-1f, E5 = 1.0f, E6 = 1.0f;

    /**
     * erf(x) as MLAS's FMA3 kernel: a = min(|x|, 3.925). Below 0.921875: a + a * p(a^2) with p of degree 5 (fma
     * steps). From there: r = a + a * q(a) with q of degree 6, then 1 - exp(-r) with its own exp polynomial, the
     * power of two built from the truncated exponent. The sign of x is copied onto the result.
     */
    public static float erf(float x) {
        float a = Math.min(Math.abs(x), ERF_UPPER), r;
        if (a >= ERF_SPLIT) {
            float q = B0;
            q = Math.fma(q, a, B1);
            q = Math.fma(q, a, B2);
            q = Math.fma(q, a, B3);
            q = Math.fma(q, a, B4);
            q = Math.fma(q, a, B5);
            q = Math.fma(q, a, B6);
            q = Math.fma(q, a, a);
            q = Math.max(-q, E_LOWER);
            float m = Math.fma(LOG2E, q, E_C) - E_C;
            float f = Math.fma(LN2_HIGH, m, q);
            f = Math.fma(m, LN2_LOW, f);
            float y = E0;
            y = Math.fma(y, f, E1);
            y = Math.fma(y, f, E2);
            y = Math.fma(y, f, E3);
            y = Math.fma(y, f, E4);
            y = Math.fma(y, f, E5);
            y = Math.fma(y, f, E6);
            r = 1.0f - y * Float.intBitsToFloat(((int) m + 127) << 23);
        } else {
            float s = a * a, p = S0;
            p = Math.fma(p, s, S1);
            p = Math.fma(p, s, S2);
            p = Math.fma(p, s, S3);
            p = Math.fma(p, s, S4);
            p = Math.fma(p, s, S5);
            r = Math.fma(p, a, a);
        }
        return Math.copySign(r, x);
    }

    /** The constant an exported GELU divides by: sqrt(2) as a float. */
    public static final float SQRT2 = 1.4142135f;

    /** GELU node by node as exported graphs write it: Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5). */
    public static float gelu(float x) {
        return x * (erf(x / SQRT2) + 1.0f) * 0.5f;
    }
}
