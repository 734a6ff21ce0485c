package dev.offload.synthetic;

import dev.offload.ops.gemm.Activation;
import dev.offload.graph.Add;
import dev.offload.graph.Attention;
import dev.offload.graph.Embedding;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.MeanPool;
import dev.offload.graph.Op;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.RmsNorm;
import dev.offload.graph.SiluGate;
import dev.offload.graph.SparseFormat;
import dev.offload.graph.SparseLinear;
import dev.offload.graph.TensorType;
import dev.offload.runtime.HostTensor;
import dev.offload.tensor.DType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Builds seeded random transformers as graphs, for profiling without model files.
 *
 * <p>Encoder blocks are BERT-style: word + position + token-type embeddings then LayerNorm; per block Q/K/V
 * linears (with bias) over one uint8 per-tensor quantization, attention with a key-padding mask from lengths,
 * output projection, residual add, LayerNorm (post-norm), FFN with exact GELU fused into the first linear,
 * residual add, LayerNorm; then mean pooling over the valid tokens.
 *
 * <p>Decoder blocks are Llama-style: int8 token embedding; per block RMSNorm, per-row int8 quantization, Q/K/V
 * linears (grouped-query: K and V have kv-heads heads), causal attention, output projection, residual; RMSNorm,
 * gate and up linears, SiLU gate, down linear, residual; a final RMSNorm. Built for {@code seq} tokens it is the
 * prefill; run with a {@link dev.offload.runtime.KvCache} its attention keeps K and V, and the same model built for
 * one token ({@code spec.withSeq(1)}, same weights) is a decode step. There are no position embeddings, so a decode
 * step needs only the new token ids.
 *
 * <p>Weights: normal with std 1/sqrt(K), quantized per output channel to symmetric int8 with float scales, then
 * pruned by magnitude when the spec asks for sparsity.
 */
public final class SyntheticModel {
    private final SyntheticSpec spec;
    private final SplittableRandom random;

    private SyntheticModel(SyntheticSpec spec) {
        this.spec = spec;
        this.random = new SplittableRandom(spec.seed());
    }

    public static Graph build(SyntheticSpec spec) {
        SyntheticModel m = new SyntheticModel(spec);
        return spec.arch() == SyntheticSpec.Arch.ENCODER ? m.encoder() : m.decoder();
    }

    /** Seeded random inputs for a graph of this spec: token ids, token types and lengths (encoder, the first full). */
    public static Map<String, HostTensor> inputs(SyntheticSpec spec, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int b = spec.batch(), s = spec.seq();
        Map<String, HostTensor> in = new LinkedHashMap<>();
        int[] ids = new int[b * s];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(spec.vocab());
        in.put("input_ids", HostTensor.of(TensorType.of(DType.INT32, b, s), ids));
        if (spec.arch() == SyntheticSpec.Arch.ENCODER) {
            int[] types = new int[b * s];
            for (int i = 0; i < types.length; i++) types[i] = r.nextInt(2);
            int[] lengths = new int[b];
            for (int i = 0; i < b; i++) lengths[i] = i == 0 ? s : 1 + r.nextInt(s);
            in.put("token_type_ids", HostTensor.of(TensorType.of(DType.INT32, b, s), types));
            in.put("lengths", HostTensor.of(TensorType.of(DType.INT32, b), lengths));
        }
        return in;
    }

    /** Seeded random token ids [batch, 1] for each of {@code steps} decode steps. */
    public static java.util.List<Map<String, HostTensor>> decodeInputs(SyntheticSpec spec, int steps, long seed) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        java.util.List<Map<String, HostTensor>> out = new java.util.ArrayList<>();
        for (int i = 0; i < steps; i++) {
            int[] ids = new int[spec.batch()];
            for (int b = 0; b < ids.length; b++) ids[b] = r.nextInt(spec.vocab());
            out.add(Map.of("input_ids", HostTensor.of(TensorType.of(DType.INT32, spec.batch(), 1), ids)));
        }
        return out;
    }

    private float[] normal(int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (gaussian() * std);
        return a;
    }

    private double gaussian() { return random.nextGaussian(); }

    private float[] around(int n, float center, double std) {
        float[] a = normal(n, std);
        for (int i = 0; i < n; i++) a[i] += center;
        return a;
    }

    /** A linear layer [K, N]: dense int8, or pruned to the spec's sparsity. */
    private Op linear(int k, int n, boolean bias, Activation act) {
        float[] w = normal(k * n, 1 / Math.sqrt(k));
        byte[] q = new byte[k * n];
        float[] scales = new float[n];
        for (int c = 0; c < n; c++) {
            float max = 0;
            for (int r = 0; r < k; r++) max = Math.max(max, Math.abs(w[r * n + c]));
            scales[c] = max == 0 ? 1 : max / 127;
            for (int r = 0; r < k; r++) q[r * n + c] = (byte) Math.max(-127, Math.min(127, Math.rint(w[r * n + c] / scales[c])));
        }
        float[] b = bias ? normal(n, 0.02) : null;
        if (!spec.sparse()) return new Int8Linear(k, n, q, scales, null, b, act);
        if (spec.sparsity() < 0) Int8ColumnPruning.twoFour(q, k, n);
        else Int8ColumnPruning.magnitude(q, k, n, spec.sparsity());
        return new SparseLinear(k, n, q, scales, b, act, SparseFormat.parse(spec.format()));
    }

    private String linearNode(GraphBuilder g, String name, String[] quantized, int k, int n, boolean bias, Activation act) {
        return g.add1(name, linear(k, n, bias, act), quantized);
    }

    private Graph encoder() {
        int h = spec.hidden(), b = spec.batch(), s = spec.seq();
        GraphBuilder g = new GraphBuilder("synthetic-encoder");
        String ids = g.input("input_ids", TensorType.of(DType.INT32, b, s));
        String types = g.input("token_type_ids", TensorType.of(DType.INT32, b, s));
        String lengths = g.input("lengths", TensorType.of(DType.INT32, b));
        g.layer("embed");
        String word = g.add1("embed.word", Embedding.ofFloat(normal(spec.vocab() * h, 0.5), spec.vocab(), h, Embedding.Index.TOKEN), ids);
        int positions = Math.max(512, s);
        String pos = g.add1("embed.position", Embedding.ofFloat(normal(positions * h, 0.5), positions, h, Embedding.Index.POSITION), ids);
        String type = g.add1("embed.token_type", Embedding.ofFloat(normal(2 * h, 0.5), 2, h, Embedding.Index.TOKEN), types);
        String sum = g.add1("embed.add_position", new Add(), word, pos);
        sum = g.add1("embed.add_token_type", new Add(), sum, type);
        String x = g.add1("embed.norm", new LayerNorm(around(h, 1, 0.1), normal(h, 0.1), 1e-12f), sum);
        for (int l = 0; l < spec.layers(); l++) {
            String p = "layer." + l;
            g.layer(p);
            String[] xq = g.add(p + ".attn.quantize", new DynamicQuantize(DynamicQuantize.Mode.PER_TENSOR_UINT8), x).toArray(String[]::new);
            String q = linearNode(g, p + ".attn.q", xq, h, h, true, Activation.NONE);
            String k = linearNode(g, p + ".attn.k", xq, h, h, true, Activation.NONE);
            String v = linearNode(g, p + ".attn.v", xq, h, h, true, Activation.NONE);
            String a = g.add1(p + ".attn", Attention.of(spec.heads(), spec.heads(), spec.headDim(), false), q, k, v, lengths);
            String[] aq = g.add(p + ".attn.out.quantize", new DynamicQuantize(DynamicQuantize.Mode.PER_TENSOR_UINT8), a).toArray(String[]::new);
            String o = linearNode(g, p + ".attn.out", aq, h, h, true, Activation.NONE);
            String r1 = g.add1(p + ".attn.residual", new Add(), o, x);
            String x1 = g.add1(p + ".attn.norm", new LayerNorm(around(h, 1, 0.1), normal(h, 0.1), 1e-12f), r1);
            String[] x1q = g.add(p + ".ffn.quantize", new DynamicQuantize(DynamicQuantize.Mode.PER_TENSOR_UINT8), x1).toArray(String[]::new);
            String f1 = linearNode(g, p + ".ffn.up", x1q, h, spec.ffn(), true, Activation.GELU_ERF);
            String[] f1q = g.add(p + ".ffn.down.quantize", new DynamicQuantize(DynamicQuantize.Mode.PER_TENSOR_UINT8), f1).toArray(String[]::new);
            String f2 = linearNode(g, p + ".ffn.down", f1q, spec.ffn(), h, true, Activation.NONE);
            String r2 = g.add1(p + ".ffn.residual", new Add(), f2, x1);
            x = g.add1(p + ".ffn.norm", new LayerNorm(around(h, 1, 0.1), normal(h, 0.1), 1e-12f), r2);
        }
        g.layer("head");
        String pooled = g.add1("pooled", new MeanPool(), x, lengths);
        return g.output(x).output(pooled).build();
    }

    private Graph decoder() {
        int h = spec.hidden(), b = spec.batch(), s = spec.seq(), d = spec.headDim(), kvw = spec.kvHeads() * d;
        GraphBuilder g = new GraphBuilder("synthetic-decoder");
        String ids = g.input("input_ids", TensorType.of(DType.INT32, b, s));
        g.layer("embed");
        float[] table = normal(spec.vocab() * h, 0.5);
        byte[] qt = new byte[table.length];
        float[] rowScales = new float[spec.vocab()];
        for (int r = 0; r < spec.vocab(); r++) {
            float max = 0;
            for (int c = 0; c < h; c++) max = Math.max(max, Math.abs(table[r * h + c]));
            rowScales[r] = max == 0 ? 1 : max / 127;
            for (int c = 0; c < h; c++) qt[r * h + c] = (byte) Math.rint(table[r * h + c] / rowScales[r]);
        }
        String x = g.add1("embed.tokens", Embedding.ofInt8(qt, rowScales, spec.vocab(), h, Embedding.Index.TOKEN), ids);
        for (int l = 0; l < spec.layers(); l++) {
            String p = "layer." + l;
            g.layer(p);
            String n1 = g.add1(p + ".attn.norm", new RmsNorm(around(h, 1, 0.1), 1e-5f), x);
            String[] nq = g.add(p + ".attn.quantize", new DynamicQuantize(DynamicQuantize.Mode.PER_ROW_INT8), n1).toArray(String[]::new);
            String q = linearNode(g, p + ".attn.q", nq, h, h, false, Activation.NONE);
            String k = linearNode(g, p + ".attn.k", nq, h, kvw, false, Activation.NONE);
            String v = linearNode(g, p + ".attn.v", nq, h, kvw, false, Activation.NONE);
            String a = g.add1(p + ".attn", Attention.of(spec.heads(), spec.kvHeads(), d, true), q, k, v);
            String[] aq = g.add(p + ".attn.out.quantize", new DynamicQuantize(DynamicQuantize.Mode.PER_ROW_INT8), a).toArray(String[]::new);
            String o = linearNode(g, p + ".attn.out", aq, h, h, false, Activation.NONE);
            String h1 = g.add1(p + ".attn.residual", new Add(), x, o);
            String n2 = g.add1(p + ".mlp.norm", new RmsNorm(around(h, 1, 0.1), 1e-5f), h1);
            String[] n2q = g.add(p + ".mlp.quantize", new DynamicQuantize(DynamicQuantize.Mode.PER_ROW_INT8), n2).toArray(String[]::new);
            String gate = linearNode(g, p + ".mlp.gate", n2q, h, spec.ffn(), false, Activation.NONE);
            String up = linearNode(g, p + ".mlp.up", n2q, h, spec.ffn(), false, Activation.NONE);
            String act = g.add1(p + ".mlp.silu_gate", new SiluGate(), gate, up);
            String[] actq = g.add(p + ".mlp.down.quantize", new DynamicQuantize(DynamicQuantize.Mode.PER_ROW_INT8), act).toArray(String[]::new);
            String down = linearNode(g, p + ".mlp.down", actq, spec.ffn(), h, false, Activation.NONE);
            x = g.add1(p + ".mlp.residual", new Add(), h1, down);
        }
        g.layer("head");
        String out = g.add1("final_norm", new RmsNorm(around(h, 1, 0.1), 1e-5f), x);
        return g.output(out).build();
    }
}
