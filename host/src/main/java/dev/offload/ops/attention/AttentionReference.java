package dev.offload.ops.attention;

import dev.offload.math.OnnxRuntimeCpu;
import java.util.stream.IntStream;

/**
 * The plain-Java definition of attention that every kernel is judged against, and the java device's attention
 * ({@link AttentionJava}): double accumulation and the textbook (two-pass) softmax: subtract the row max,
 * exponentiate, normalize. {@link #onnxRuntime} is its ONNX Runtime variant, float32 rounded as ONNX Runtime rounds
 * an exported BERT graph's attention (imported models, and the encoder reference).
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
        long kvElements = s.kvElements();
        checkLength("Q", q, s.queryElements());
        checkLength("K", k, kvElements);
        checkLength("V", v, kvElements);
        Mask mask = p.mask();
        Dims dims = new Dims(s.batch(), s.heads(), s.kvHeads(), s.queryLength(), s.kvLength(), s.headDim());
        Keys keys = new Keys() {
            @Override public boolean visible(int b, int i, int j) { return mask.visible(s, b, i, j); }

            @Override public double bias(int b, int h, int i, int j) { return mask.additive() == null ? 0 : mask.additive().at(s, b, h, i, j); }
        };
        return attend(dims, p.scale(), p.softcap(), keys, p.layout() == AttentionProblem.Layout.TOKEN_MAJOR,
                p.storage().round(q), p.storage().round(k), p.storage().round(v));
    }

    /**
     * The graph's {@code dev.offload.graph.Attention} (not its ONNX Runtime form) over token-major q [B, Sq, H*D],
     * k and v [B, Skv, Hkv*D]: keys at or past keyLengths[b] (clamped to [0, Skv]; null: none) are masked, and with
     * {@code causal} query i sees keys j <= i + Skv - Sq. Any head dimension.
     */
    public static float[] tokenMajor(int heads, int kvHeads, int headDim, boolean causal, float scale, float[] q, float[] k,
                                     float[] v, int[] keyLengths, int batch, int sq, int skv) {
        return tokenMajor(heads, kvHeads, headDim, causal, 0, scale, 0f, q, k, v, keyLengths, batch, sq, skv);
    }

    /**
     * {@link #tokenMajor(int, int, int, boolean, float, float[], float[], float[], int[], int, int, int)} with a sliding
     * window of {@code window} keys on the causal mask (0: none): a query sees only the last {@code window} of the keys
     * the causal and length masks leave it.
     */
    public static float[] tokenMajor(int heads, int kvHeads, int headDim, boolean causal, int window, float scale, float softcap, float[] q,
                                     float[] k, float[] v, int[] keyLengths, int batch, int sq, int skv) {
        if (window < 0 || (window > 0 && !causal)) throw new IllegalArgumentException("a sliding window needs a causal mask and >= 1 keys, got " + window);
        Dims dims = new Dims(batch, heads, kvHeads, sq, skv, headDim);
        checkLength("Q", q, (long) batch * sq * heads * headDim);
        checkLength("K", k, (long) batch * skv * kvHeads * headDim);
        checkLength("V", v, (long) batch * skv * kvHeads * headDim);
        Keys keys = new Keys() {
            @Override public boolean visible(int b, int i, int j) {
                if (keyLengths != null && j >= Math.clamp(keyLengths[b], 0, skv)) return false;
                if (!causal) return true;
                int end = i + skv - sq + 1;   // one past the row's last key; a window sees the last ones before it
                if (keyLengths != null) end = Math.min(end, Math.clamp(keyLengths[b], 0, skv));
                return j < end && (window == 0 || j >= end - window);
            }

            @Override public double bias(int b, int h, int i, int j) { return 0; }
        };
        return attend(dims, scale, softcap, keys, true, q, k, v);
    }

    /**
     * The ONNX Runtime variant ({@code dev.offload.graph.Attention#onnxRuntime}, imported models): per (b, head, query
     * row) over the first keyLengths[b] keys (clamped; null: all), scores (q·k) / divisor as fma chains, ONNX
     * Runtime's softmax, then the weighted sum of values as fma chains over the keys in order ({@link OnnxRuntimeCpu}).
     * A row without keys is zeros. Token-major q [B, Sq, H*D], k and v [B, Skv, Hkv*D], float32 throughout: what
     * attention.cl's attention_onnx kernels and ONNX Runtime compute, bit for bit.
     */
    public static float[] onnxRuntime(int heads, int kvHeads, int d, float divisor, float[] q, float[] k, float[] v,
                                      int[] keyLengths, int batch, int sq, int skv) {
        int group = heads / kvHeads, qStride = heads * d, kvStride = kvHeads * d;
        float[] out = new float[batch * sq * qStride];
        IntStream.range(0, batch * heads).parallel().forEach(bh -> {
            int b = bh / heads, head = bh % heads, kvHead = head / group;
            int len = keyLengths == null ? skv : Math.clamp(keyLengths[b], 0, skv);
            float[] p = new float[len];
            for (int i = 0; i < sq && len > 0; i++) {
                int qo = (b * sq + i) * qStride + head * d, kv = b * skv * kvStride + kvHead * d;
                for (int j = 0; j < len; j++) p[j] = OnnxRuntimeCpu.dot(q, qo, 1, k, kv + j * kvStride, 1, d) / divisor;
                OnnxRuntimeCpu.softmax(p, 0, len);
                for (int c = 0; c < d; c++) out[qo + c] = OnnxRuntimeCpu.dot(p, 0, 1, v, kv + c, kvStride, len);
            }
        });
        return out;
    }

    /** The attention dimensions the core loop needs (no kernel constraint on the head dimension). */
    private record Dims(int batch, int heads, int kvHeads, int sq, int skv, int d) {}

    /** Which keys a query row sees, and the additive bias of its scores. */
    private interface Keys {
        boolean visible(int b, int i, int j);

        double bias(int b, int h, int i, int j);
    }

    /**
     * The definition: per (b, h, query row) scores scale * q·k (with a soft cap c > 0: c * tanh(that / c)) + bias in
     * double over the visible keys, the two-pass
     * softmax, the weighted mean of the values; -infinity masks a key; a row with no visible key stays zeros.
     * (b, h) pairs run in parallel: each writes its own rows, so the result does not depend on the schedule.
     */
    private static float[] attend(Dims s, float scale, float softcap, Keys keys, boolean tokenMajor, float[] q, float[] k, float[] v) {
        int d = s.d(), skv = s.skv(), group = s.heads() / s.kvHeads();
        float[] out = new float[s.batch() * s.sq() * s.heads() * d];
        IntStream.range(0, s.batch() * s.heads()).parallel().forEach(bh -> {
            int b = bh / s.heads(), h = bh % s.heads(), hk = h / group;
            double[] scores = new double[skv];
            boolean[] visible = new boolean[skv];
            double[] acc = new double[d];
            for (int i = 0; i < s.sq(); i++) {
                long qBase = tokenMajor ? (((long) b * s.sq() + i) * s.heads() + h) * d : (((long) b * s.heads() + h) * s.sq() + i) * d;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < skv; j++) {
                    visible[j] = keys.visible(b, i, j);
                    if (!visible[j]) continue;
                    long kRow = kvRow(s, tokenMajor, b, hk, j);
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += (double) q[(int) (qBase + c)] * k[(int) (kRow + c)];
                    double scaled = scale * dot;
                    if (softcap > 0) scaled = softcap * Math.tanh(scaled / softcap);
                    double score = scaled + keys.bias(b, h, i, j);
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
                    long vRow = kvRow(s, tokenMajor, b, hk, j);
                    for (int c = 0; c < d; c++) acc[c] += w * v[(int) (vRow + c)];
                }
                for (int c = 0; c < d; c++) out[(int) (qBase + c)] = (float) (acc[c] / sum);
            }
        });
        return out;
    }

    private static long kvRow(Dims s, boolean tokenMajor, int b, int hk, int j) {
        return tokenMajor ? (((long) b * s.skv() + j) * s.kvHeads() + hk) * s.d() : (((long) b * s.kvHeads() + hk) * s.skv() + j) * s.d();
    }

    private static void checkLength(String name, float[] a, long want) {
        if (a.length != want) {
            throw new IllegalArgumentException(name + " has " + a.length + " elements, the shape needs " + want);
        }
    }
}
