package dev.offload.ops.gemm;

/** The error function in double precision (the JDK has none), for the GELU reference. */
final class Erf {
    private Erf() {}

    /**
     * erf(x) to about 1e-15 relative: the Maclaurin series for |x| < 2.5, the continued fraction of erfc
     * beyond (both converge fast there). Far more accurate than the float kernels it judges.
     */
    static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        double r;
        if (ax < 2.5) {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            r = 2.0 / Math.sqrt(Math.PI) * sum;
        } else if (ax < 6.5) {
            // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up
            double f = ax;
            for (int n = 60; n >= 1; n--) f = ax + (n / 2.0) / f;
            r = 1.0 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        } else {
            r = 1.0;
        }
        return x < 0 ? -r : r;
    }
}
