package dev.offload.ops.attention;

/**
 * The plain-Java definition of attention that every kernel is judged against: double accumulation and
 * the textbook (two-pass) softmax: subtract the row max, exponentiate, normalize.
 *
 * <p>Semantics it pins down: masked keys (causal, beyond kvLengths, or an additive -infinity) take no
 * part; a row with no visible key is zeros. Inputs are first rounded to the problem's storage, so an
 * fp16 problem is compared on the half-rounded values the device actually reads.
 */
public final class AttentionReference {
    private AttentionReference() {}

    /**
     * Error bound for float32 arithmetic, as max |o - ref| / max |ref| over the whole output, for
     * D <= 256 and Skv <= 8192 with inputs of magnitude <= 1 and scale 1/sqrt(D).
     *
     * <p>Why 1e-5: float32 rounding is u = 2^-24 = 6e-8 per operation. A score is a D-term dot product
     * (error about sqrt(D) u |q||k| scale, under 1e-6 absolute for D = 256) and exp adds up to 3 ulp
     * (OpenCL's exp accuracy), so each weight p_j carries a relative error of about 1e-6 at most. The
     * output is a weighted mean, and independent weight errors average out rather than add. The sums
     * l = sum p_j and acc = sum p_j v_j run over up to 8192 keys; the kernel sums each 16-key block
     * first and then the blocks, so the rounding grows like u (sqrt(16) + sqrt(Skv/16)) = 2e-6
     * relative to the sum of |terms| in the worst row. A sharper softmax (large scale or large
     * inputs, scores of magnitude ~20) raises the score rounding u |s| accordingly. Measured (seeded
     * random inputs, every shape in the tests and the validator): below 1.3e-6 of max |ref| with
     * scale 1/sqrt(D), up to 4e-6 with scale 1.7 on inputs in [-2, 2]. 1e-5 covers both and leaves
     * room for another device's summation order, while any indexing or masking bug shows up as
     * errors of 1e-2 and more.
     */
    public static final double FLOAT32_BOUND = 1e-5;

    /** O [B,H,Sq,D] for inputs Q [B,H,Sq,D], K and V [B,Hkv,Skv,D]; token-major problems in and out token-major. */
    public static float[] compute(AttentionProblem p, float[] q, float[] k, float[] v) {
        AttentionShape s = p.shape();
        if (p.layout() == AttentionProblem.Layout.TOKEN_MAJOR) {
            AttentionProblem headMajor = p.withLayout(AttentionProblem.Layout.HEAD_MAJOR);
            float[] o = compute(headMajor, swapMiddle(q, s.batch(), s.queryLength(), s.heads(), s.headDim()),
                    swapMiddle(k, s.batch(), s.kvLength(), s.kvHeads(), s.headDim()),
                    swapMiddle(v, s.batch(), s.kvLength(), s.kvHeads(), s.headDim()));
            return swapMiddle(o, s.batch(), s.heads(), s.queryLength(), s.headDim());
        }
        checkLength("Q", q, s.queryElements());
        checkLength("K", k, s.kvElements());
        checkLength("V", v, s.kvElements());
        q = p.storage().round(q);
        k = p.storage().round(k);
        v = p.storage().round(v);
        Mask mask = p.mask();
        int d = s.headDim(), skv = s.kvLength();
        float[] out = new float[Math.toIntExact(s.outputElements())];
        double[] scores = new double[skv];
        boolean[] visible = new boolean[skv];
        double[] acc = new double[d];
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.heads(); h++) {
                int hk = h / s.groupSize();
                long kvBase = ((long) b * s.kvHeads() + hk) * skv * d;
                for (int i = 0; i < s.queryLength(); i++) {
                    long qBase = (((long) b * s.heads() + h) * s.queryLength() + i) * d;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < skv; j++) {
                        visible[j] = mask.visible(s, b, i, j);
                        if (!visible[j]) continue;
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += (double) q[(int) (qBase + c)] * k[(int) (kvBase + (long) j * d + c)];
                        double score = p.scale() * dot;
                        if (mask.additive() != null) score += mask.additive().at(s, b, h, i, j);
                        if (score == Double.NEGATIVE_INFINITY) visible[j] = false;
                        scores[j] = score;
                        if (visible[j]) max = Math.max(max, score);
                    }
                    if (max == Double.NEGATIVE_INFINITY) continue;   // no visible key: the row stays zeros
                    java.util.Arrays.fill(acc, 0);
                    double sum = 0;
                    for (int j = 0; j < skv; j++) {
                        if (!visible[j]) continue;
                        double w = Math.exp(scores[j] - max);
                        sum += w;
                        long vRow = kvBase + (long) j * d;
                        for (int c = 0; c < d; c++) acc[c] += w * v[(int) (vRow + c)];
                    }
                    for (int c = 0; c < d; c++) out[(int) (qBase + c)] = (float) (acc[c] / sum);
                }
            }
        }
        return out;
    }

    private static void checkLength(String name, float[] a, long want) {
        if (a.length != want) {
            throw new IllegalArgumentException(name + " has " + a.length + " elements, the shape needs " + want);
        }
    }

    /** [a, b, c, d] -> [a, c, b, d]: token-major to head-major (b = tokens, c = heads) and back (b = heads, c = tokens). */
    static float[] swapMiddle(float[] x, int a, int b, int c, int d) {
        checkLength("tensor", x, (long) a * b * c * d);
        float[] y = new float[x.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                for (int t = 0; t < c; t++) System.arraycopy(x, ((i * b + j) * c + t) * d, y, ((i * c + t) * b + j) * d, d);
            }
        }
        return y;
    }
}
