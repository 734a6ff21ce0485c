package dev.offload.ops.sparse;

/**
 * How far two float32 evaluations of {@code Y = S x B} may differ when they sum the same terms in a
 * different order (or with and without fused multiply-add).
 *
 * <p>Recursive summation of L products in float32 has a forward error of at most
 * {@code gamma_L * sum|s*b|} with {@code gamma_L = L*u / (1 - L*u)} and {@code u = 2^-24} (Higham, Accuracy and
 * Stability of Numerical Algorithms, 3.1). Two such results therefore differ by at most
 * {@code 2 * gamma_L * sum|s*b|} per element. L is the number of terms summed for the element: K for the dense
 * reference, the stored values of the row for a kernel; the larger is used. For K = 4096 and terms of one
 * sign this is about 5e-4 relative: a loose worst case, and still a thousand times tighter than a wrong
 * index or a lost term would produce.
 */
public final class SpmmTolerance {
    private SpmmTolerance() {}

    private static final double U = 0x1p-24;

    /** Per-element bounds on |kernel - reference| for a float32 S and B. */
    public static double[] elementBounds(SparseMatrix s, float[] b, int n) {
        SpmmReference.checkShapes(s, b.length, n);
        float[] v = ((Values.Float32) s.values()).data();
        double[] absSum = new double[s.rows() * n];
        int[] termsPerRow = new int[s.rows()];
        SpmmReference.forEachStored(s, (m, k, j) -> {
            termsPerRow[m]++;
            for (int c = 0; c < n; c++) absSum[m * n + c] += Math.abs((double) v[j] * b[k * n + c]);
        });
        double[] bound = new double[absSum.length];
        for (int m = 0; m < s.rows(); m++) {
            int terms = Math.max(s.cols(), termsPerRow[m]);
            double gamma = terms * U / (1 - terms * U);
            // Products of float32 values can underflow; Float.MIN_VALUE covers a denormal residue.
            for (int c = 0; c < n; c++) bound[m * n + c] = 2 * gamma * absSum[m * n + c] + Float.MIN_VALUE;
        }
        return bound;
    }

    /**
     * The same bound as one number relative to {@code max|want|}, for norm-wise comparisons
     * ({@code max|got - want| / max|want| <= bound}).
     */
    public static double relativeBound(SparseMatrix s, float[] b, int n, float[] want) {
        double maxBound = 0, maxWant = 0;
        for (double x : elementBounds(s, b, n)) maxBound = Math.max(maxBound, x);
        for (float w : want) maxWant = Math.max(maxWant, Math.abs(w));
        return maxWant == 0 ? maxBound : maxBound / maxWant;
    }

    /** The first element where |got - want| exceeds its bound (or got is NaN), or -1 when none does. */
    public static int firstViolation(float[] want, float[] got, double[] bounds) {
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs((double) got[i] - want[i]) <= bounds[i])) return i;
        }
        return -1;
    }
}
