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
}
