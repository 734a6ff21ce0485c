package dev.offload.math;

/** The error function in double precision (Java has no Math.erf), relative error about 1e-15: the one every GELU reference uses. */
public final class Erf {
    private Erf() {}

    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;

    /**
     * erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_{n>=0} (2x^2)^n * x / (1*3*5*...*(2n+1)). All terms are positive,
     * so there is no cancellation; the series converges for every x and needs about x^2 + 40 terms. For
     * |x| >= 6, erf(x) rounds to +-1 in double (erfc(6) = 2e-17).
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double a = Math.abs(x);
        if (a >= 6) return Math.copySign(1.0, x);
        double x2 = 2 * a * a;
        double term = a, sum = a;
        for (int n = 1; n < 200; n++) {
            term *= x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return Math.copySign(Math.min(1.0, TWO_OVER_SQRT_PI * Math.exp(-a * a) * sum), x);
    }

    // The pieces of erfFloat (see erf.clh for how they were made): [0, 1) as x + x P(x^2), then polynomials in
    // |x| - 1.3, |x| - 1.95 and |x| - 3.11 on [1, 1.6), [1.6, 2.3) and [2.3, 3.92); highest power first.
    private static final float[] SMALL = {
            -9.809440598e-06f, 1.131317185e-04f, -8.490202017e-04f, 5.221423227e-03f, -2.686555870e-02f,
            1.128378436e-01f, -3.761263788e-01f, 1.283791661e-01f};
    private static final float[] PIECE_1 = {
            -5.091115367e-03f, 1.662873081e-03f, 2.217217721e-02f, -4.065347463e-02f, -1.714216173e-02f,
            1.651786566e-01f, -2.706704140e-01f, 2.082080096e-01f, 9.340079427e-01f};
    private static final float[] PIECE_2 = {
            1.490474213e-03f, -3.986579366e-03f, 1.762605272e-03f, 1.276014838e-02f, -3.768491745e-02f,
            5.543734878e-02f, -4.910037294e-02f, 2.517968044e-02f, 9.941793084e-01f};
    private static final float[] PIECE_3 = {
            -1.027551989e-04f, 3.051237727e-04f, -4.881596833e-04f, 6.088793161e-04f, -6.007625489e-04f,
            4.363751505e-04f, -2.212722466e-04f, 7.104055112e-05f, 9.999890924e-01f};

    /**
     * erf in float exactly as offload's OpenCL kernels compute it ({@code erf.clh}: the same pieces, coefficients and
     * fma order, so both give the same bits): about 1 ulp from the true erf. GELU uses it on both sides, so the
     * graph's Java run and its OpenCL run agree bit for bit through the activation.
     */
    public static float erfFloat(float x) {
        float a = Math.abs(x), r;
        if (a < 1f) r = Math.fma(a, horner(SMALL, a * a), a);
        else if (a < 1.6f) r = horner(PIECE_1, a - 1.3f);
        else if (a < 2.3f) r = horner(PIECE_2, a - 1.95f);
        else if (a < 3.92f) r = horner(PIECE_3, a - 3.11f);
        else if (Float.isNaN(a)) return x;
        else r = 1f;
        return Math.copySign(r, x);
    }

    private static float horner(float[] c, float t) {
        float r = c[0];
        for (int i = 1; i < c.length; i++) r = Math.fma(r, t, c[i]);
        return r;
    }
}
