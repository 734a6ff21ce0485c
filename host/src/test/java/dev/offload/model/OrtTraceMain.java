package dev.offload.model;

import dev.offload.math.Erf;
import dev.offload.math.OnnxRuntimeCpu;
import dev.offload.model.onnx.OnnxModel;
import dev.offload.model.onnx.OnnxNode;
import dev.offload.model.onnx.OnnxTensor;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Development aid: which ONNX Runtime ops does offload's float arithmetic reproduce bit for bit? Runs ORT on one
 * sentence with every intermediate traced ({@link OrtTrace}), evaluates each float node again in Java from ORT's own
 * inputs with candidate arithmetics, and prints per op type how many values differ (and by how many ulps). The
 * candidate named "offload" is {@link OnnxRuntimeCpu}: it must show 0 differing values for every op; the others are the
 * alternatives it was told apart from (double sums, other Eigen packet layouts, Java's exp and erf, unfused products).
 * Usage: {@code OrtTraceMain MODEL_ID [SENTENCE_INDEX]} with the test class path (see EncoderAccuracyTest).
 */
public final class OrtTraceMain {
    public static void main(String[] args) throws Exception {
        ModelCatalog m = ModelCatalog.byId(args[0]);
        int sentence = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        byte[] onnx = m.onnxBytes();
        OnnxModel parsed = OrtTrace.parse(onnx, m.onnxEntry);
        WordPieceTokenizer tok = WordPieceTokenizer.fromJson(m.tokenizerBytes(), m.tokenizerEntry);
        TokenBatch one = TokenBatch.pad(List.of(tok.encode(EncoderAccuracyTest.SENTENCES.get(sentence), 32)), tok.padId());
        Map<String, OrtTrace.Value> trace = OrtTrace.run(OrtTrace.withIntermediateOutputs(onnx, parsed), one);
        System.out.printf("%s, sentence %d (%d tokens): %d traced values%n", m.id, sentence, one.length(), trace.size());

        Map<String, Stats> stats = new TreeMap<>();
        for (OnnxNode n : parsed.nodes()) {
            OrtTrace.Value want = trace.get(n.output());
            if (want == null || want.floats() == null) continue;
            List<OrtTrace.Value> in = new ArrayList<>();
            boolean ok = true;
            for (String i : n.inputs()) {
                OrtTrace.Value v = value(i, trace, parsed);
                if (v == null && !i.isEmpty()) { ok = false; break; }
                in.add(v);
            }
            if (!ok) continue;
            for (var c : candidates(n, in).entrySet()) {
                float[] got = c.getValue();
                if (got == null) continue;
                stats.computeIfAbsent(n.opType() + " " + c.getKey(), k -> new Stats()).add(n.name(), want.floats(), got);
            }
        }
        for (var e : stats.entrySet()) System.out.printf("%-34s %s%n", e.getKey(), e.getValue());
    }

    static OrtTrace.Value value(String name, Map<String, OrtTrace.Value> trace, OnnxModel parsed) {
        OrtTrace.Value v = trace.get(name);
        if (v != null) return v;
        OnnxTensor t = parsed.constants().get(name);
        if (t == null) return null;
        if (t.floats() != null) return new OrtTrace.Value(t.shape(), t.floats(), null, null);
        return null;
    }

    /** Per op type and candidate: values compared, values that differ, nodes with a difference, max ulps. */
    static final class Stats {
        long values, differing, maxUlps;
        int nodes, badNodes;
        String firstBad;

        void add(String node, float[] want, float[] got) {
            nodes++;
            long d0 = differing;
            for (int i = 0; i < want.length; i++) {
                values++;
                if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i]) && !(want[i] == 0 && got[i] == 0)) {
                    differing++;
                    maxUlps = Math.max(maxUlps, Math.abs((long) Float.floatToRawIntBits(want[i]) - Float.floatToRawIntBits(got[i])));
                }
            }
            if (differing > d0) {
                badNodes++;
                if (firstBad == null) firstBad = node;
            }
        }

        @Override public String toString() {
            return String.format("%d nodes (%d differ), %d values, %d differ, max %d ulps%s", nodes, badNodes, values, differing, maxUlps,
                    firstBad == null ? "" : ", first " + firstBad);
        }
    }

    // ---- candidate arithmetics ---------------------------------------------------------------------------

    /** "offload" is {@link OnnxRuntimeCpu}; the others are the alternatives it was told apart from. */
    static Map<String, float[]> candidates(OnnxNode n, List<OrtTrace.Value> in) {
        Map<String, float[]> c = new LinkedHashMap<>();
        switch (n.opType()) {
            case "Add" -> c.put("float", binary(in, (a, b) -> a + b));
            case "Sub" -> c.put("float", binary(in, (a, b) -> a - b));
            case "Mul" -> c.put("float", binary(in, (a, b) -> a * b));
            case "Div" -> c.put("float", binary(in, (a, b) -> a / b));
            case "Pow" -> c.put("x*x", binary(in, (a, b) -> a * a));
            case "Sqrt" -> c.put("float", unary(in.getFirst(), x -> (float) Math.sqrt(x)));
            case "Erf" -> {
                c.put("double", unary(in.getFirst(), x -> (float) Erf.erf(x)));
                c.put("offload", unary(in.getFirst(), OnnxRuntimeCpu::erf));
            }
            case "ReduceMean" -> {
                for (String v : List.of("double", "seq", "offload", "eigen8x2", "eigen16x2", "eigen4x4")) c.put(v, reduceMean(in.getFirst(), v));
            }
            case "Softmax" -> {
                c.put("double", softmax(in.getFirst(), false));
                c.put("offload", softmax(in.getFirst(), true));
            }
            case "MatMul" -> {
                c.put("double", matmul(in.get(0), in.get(1), 0));
                c.put("offload", matmul(in.get(0), in.get(1), 1));
                c.put("mul-add-chain", matmul(in.get(0), in.get(1), 2));
            }
            default -> { }
        }
        return c;
    }

    interface Bin { float apply(float a, float b); }

    static float[] unary(OrtTrace.Value x, Function<Float, Float> f) {
        if (x.floats() == null) return null;
        float[] y = new float[x.floats().length];
        for (int i = 0; i < y.length; i++) y[i] = f.apply(x.floats()[i]);
        return y;
    }

    /** Numpy broadcasting of two float tensors. */
    static float[] binary(List<OrtTrace.Value> in, Bin f) {
        OrtTrace.Value a = in.get(0), b = in.get(1);
        if (a == null || b == null || a.floats() == null || b.floats() == null) return null;
        int rank = Math.max(a.shape().length, b.shape().length);
        long[] sa = pad(a.shape(), rank), sb = pad(b.shape(), rank), so = new long[rank];
        for (int i = 0; i < rank; i++) so[i] = Math.max(sa[i], sb[i]);
        int n = 1;
        for (long d : so) n *= (int) d;
        float[] y = new float[n];
        int[] idx = new int[rank];
        for (int o = 0; o < n; o++) {
            int rem = o;
            for (int i = rank - 1; i >= 0; i--) { idx[i] = (int) (rem % so[i]); rem /= (int) so[i]; }
            y[o] = f.apply(a.floats()[flat(idx, sa)], b.floats()[flat(idx, sb)]);
        }
        return y;
    }

    static long[] pad(long[] s, int rank) {
        long[] r = new long[rank];
        java.util.Arrays.fill(r, 1);
        System.arraycopy(s, 0, r, rank - s.length, s.length);
        return r;
    }

    static int flat(int[] idx, long[] shape) {
        int f = 0;
        for (int i = 0; i < shape.length; i++) f = f * (int) shape[i] + (shape[i] == 1 ? 0 : idx[i]);
        return f;
    }

    static float[] reduceMean(OrtTrace.Value x, String variant) {
        int n = (int) x.shape()[x.shape().length - 1], rows = x.floats().length / n;
        float[] y = new float[rows];
        for (int r = 0; r < rows; r++) {
            float[] v = java.util.Arrays.copyOfRange(x.floats(), r * n, r * n + n);
            float s = switch (variant) {
                case "double" -> { double d = 0; for (float f : v) d += f; yield (float) d; }
                case "seq" -> { float d = 0; for (float f : v) d += f; yield d; }
                case "offload" -> OnnxRuntimeCpu.sum(v, 0, n);
                case "eigen8x2" -> eigenSum(v, 8, 2);
                case "eigen16x2" -> eigenSum(v, 16, 2);
                case "eigen4x4" -> eigenSum(v, 4, 4);
                case "eigen8x4" -> eigenSum(v, 8, 4);
                default -> throw new IllegalArgumentException(variant);
            };
            y[r] = variant.equals("double") ? (float) (java.util.Arrays.stream(toDoubles(v)).sum() / n) : s / n;
        }
        return y;
    }

    static double[] toDoubles(float[] v) { double[] d = new double[v.length]; for (int i = 0; i < v.length; i++) d[i] = v[i]; return d; }

    /** Eigen's vectorized redux: `acc` packets of `p` lanes, then packets combined, then the tree inside a packet. */
    static float eigenSum(float[] v, int p, int acc) {
        int n = v.length;
        if (n < p) { float s = v[0]; for (int i = 1; i < n; i++) s += v[i]; return s; }
        float[][] packets = new float[acc][p];
        int full = n / p * p, step = acc * p, blocked = n / step * step;
        int used = Math.min(acc, full / p);
        for (int a = 0; a < used; a++) System.arraycopy(v, a * p, packets[a], 0, p);
        int i = used * p;
        if (used == acc) {
            for (; i < blocked; i += step) for (int a = 0; a < acc; a++) for (int l = 0; l < p; l++) packets[a][l] += v[i + a * p + l];
        }
        // Combine: for 2 accumulators p0 += p1; for 4: (p0 + p1) + (p2 + p3) as Eigen's unrolled variants do.
        float[] r = packets[0];
        if (used == 4) {
            for (int l = 0; l < p; l++) { packets[0][l] += packets[1][l]; packets[2][l] += packets[3][l]; packets[0][l] += packets[2][l]; }
        } else {
            for (int a = 1; a < used; a++) for (int l = 0; l < p; l++) r[l] += packets[a][l];
        }
        for (; i + p <= full; i += p) for (int l = 0; l < p; l++) r[l] += v[i + l];
        float s = predux(r);
        for (; i < n; i++) s += v[i];
        return s;
    }

    static float predux(float[] r) {
        float[] a = r.clone();
        for (int w = a.length / 2; w >= 4; w /= 2) for (int l = 0; l < w; l++) a[l] = a[l] + a[l + w];
        return (a[0] + a[2]) + (a[1] + a[3]);
    }

    static float[] softmax(OrtTrace.Value x, boolean mlas) {
        int d = (int) x.shape()[x.shape().length - 1], rows = x.floats().length / d;
        float[] y = new float[x.floats().length];
        for (int r = 0; r < rows; r++) {
            int o = r * d;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < d; j++) max = Math.max(max, x.floats()[o + j]);
            if (!mlas) {
                double sum = 0;
                for (int j = 0; j < d; j++) sum += Math.exp(x.floats()[o + j] - max);
                for (int j = 0; j < d; j++) y[o + j] = (float) (Math.exp(x.floats()[o + j] - max) / sum);
                continue;
            }
            System.arraycopy(x.floats(), o, y, o, d);
            OnnxRuntimeCpu.softmax(y, o, d);
        }
        return y;
    }

    /** Batched [.., M, K] x [.., K, N]; mode 0 double, 1 offload's (an fma chain over k), 2 separate multiply and add. */
    static float[] matmul(OrtTrace.Value a, OrtTrace.Value b, int mode) {
        if (a.floats() == null || b.floats() == null || a.shape().length != b.shape().length) return null;
        int r = a.shape().length;
        int mm = (int) a.shape()[r - 2], kk = (int) a.shape()[r - 1], nn = (int) b.shape()[r - 1];
        int batches = a.floats().length / (mm * kk);
        float[] y = new float[batches * mm * nn];
        for (int bt = 0; bt < batches; bt++) {
            for (int i = 0; i < mm; i++) {
                for (int j = 0; j < nn; j++) {
                    double d = 0;
                    float f = 0;
                    for (int k = 0; k < kk; k++) {
                        float x = a.floats()[(bt * mm + i) * kk + k], w = b.floats()[(bt * kk + k) * nn + j];
                        d += (double) x * w;
                        f = mode == 2 ? f + x * w : f;
                    }
                    y[(bt * mm + i) * nn + j] = mode == 0 ? (float) d : mode == 1
                            ? OnnxRuntimeCpu.dot(a.floats(), (bt * mm + i) * kk, 1, b.floats(), bt * kk * nn + j, nn, kk) : f;
                }
            }
        }
        return y;
    }
}
