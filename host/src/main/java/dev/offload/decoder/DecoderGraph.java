package dev.offload.decoder;

import dev.offload.graph.Add;
import dev.offload.graph.Attention;
import dev.offload.graph.BlockLinear;
import dev.offload.graph.BlockLinearGroup;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.GeluGateBlockQuantize;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.LastToken;
import dev.offload.graph.QueryKeyRope;
import dev.offload.graph.RmsNorm;
import dev.offload.graph.RmsNormBlockQuantize;
import dev.offload.graph.RotaryEmbedding;
import dev.offload.graph.SiluGateBlockQuantize;
import dev.offload.graph.TensorType;
import dev.offload.ops.blockq.BlockMatrix;
import dev.offload.tensor.DType;
import java.util.List;

/**
 * A decoder step as a graph, for {@code tokens} new tokens of one sequence: the prefill (all prompt tokens at once,
 * GEMM-shaped) and the decode step (one token) are the same graph at two sizes, run over a
 * {@link dev.offload.runtime.KvCache} that the causal attention nodes fill and read.
 *
 * <p>Inputs: {@value #X}, the tokens' embedding rows float [1, tokens, hidden] (looked up on the host from the file,
 * {@link QuantizedWeights#embed}), and {@value #POSITIONS}, int32 [1, tokens]. Output {@value #LOGITS} float
 * [1, 1, vocab], the last token's — or [1, tokens, vocab], every token's, when built {@code allLogits} (perplexity). Per layer ({@code layer.i}, what placement rules split): RMSNorm fused with its per-block int8
 * quantization (one node, shared by Q, K and V), block-quantized Q/K/V (with Qwen2's biases; Qwen3's per-head RMSNorm of Q
 * and of K after them), RoPE on Q and K (one node; Gemma 3's sliding-window layers with tables of their own), causal
 * grouped-query attention (Gemma 3: a sliding window in five of every six layers), quantization, output projection with the residual added; RMSNorm with quantization, gate
 * and up, SiLU gate (Gemma: GELU's tanh form) with quantization, down with the residual added (Q, K and V one {@link BlockLinearGroup} node,
 * gate and up one, where their formats agree; Gemma 3 norms the output projection's and the down projection's results
 * before the residual adds, which are then nodes of their own). Without {@code allLogits}, the last layer takes the last token's row
 * right after its attention (as llama.cpp does), so its output projection and MLP run on one row; then the final
 * RMSNorm with quantization and the output projection ({@code head}). The fused nodes give exactly what the unfused pairs give, in fewer launches:
 * on a CPU runtime each command costs tens of microseconds of scheduling, which at decode is most of the step.
 */
public final class DecoderGraph {
    public static final String X = "x", POSITIONS = "positions", LOGITS = "logits";

    private DecoderGraph() {}

    /**
     * The rotary tables of Q and K: the layers with global attention take {@code global}, the sliding-window layers
     * {@code local} (null for a model without them).
     */
    public record Ropes(QueryKeyRope global, QueryKeyRope local) {
        /** Tables for positions 0..positions-1 of {@code c}'s layers ({@link DecoderReference#rope}). */
        public static Ropes of(DecoderConfig c, int positions) {
            return new Ropes(pair(c, DecoderReference.rope(c, positions)),
                    c.window().keys() > 0 ? pair(c, DecoderReference.localRope(c, positions)) : null);
        }

        private static QueryKeyRope pair(DecoderConfig c, RotaryEmbedding q) { return new QueryKeyRope(q, q.withHeads(c.kvHeads())); }

        QueryKeyRope ofLayer(DecoderConfig c, int layer) {
            if (c.attentionWindow(layer) == 0) return global;
            if (local == null) throw new IllegalArgumentException("layer " + layer + " has a sliding window and no tables of its own");
            return local;
        }
    }

    /** {@link #build(DecoderConfig, QuantizedWeights, Ropes, int, boolean)} for a model whose layers all rotate alike. */
    public static Graph build(DecoderConfig c, QuantizedWeights w, RotaryEmbedding queryRope, RotaryEmbedding keyRope, int tokens,
                              boolean allLogits) {
        return build(c, w, new Ropes(new QueryKeyRope(queryRope, keyRope), null), tokens, allLogits);
    }

    public static Graph build(DecoderConfig c, QuantizedWeights w, Ropes ropes, int tokens, boolean allLogits) {
        int h = c.hidden(), qd = c.queryDim(), kvd = c.kvDim();
        GraphBuilder g = new GraphBuilder("decoder-" + tokens + (allLogits ? "-all-logits" : ""));
        String x = g.input(X, TensorType.of(DType.FLOAT32, 1, tokens, h));
        String positions = g.input(POSITIONS, TensorType.of(DType.INT32, 1, tokens));
        for (int i = 0; i < c.layers(); i++) {
            QuantizedWeights.Layer l = w.layers().get(i);
            String p = "layer." + i;
            g.layer(p);
            String[] nq = normQuantize(g, p + ".attn.norm", l.attentionNorm(), c, x);
            List<String> qkv = linears(g, p + ".attn", List.of("q", "k", "v"), List.of(linear(l.wq(), l.bq()), linear(l.wk(), l.bk()),
                    linear(l.wv(), l.bv())), nq);
            String q = qkv.get(0), k = qkv.get(1), v = qkv.get(2);
            if (c.qkNorm()) {   // Qwen3: each head of Q and K RMS-normed before its rotation
                q = g.add1(p + ".attn.q_norm", new RmsNorm(l.qNorm(), c.rmsEpsilon()), q);
                k = g.add1(p + ".attn.k_norm", new RmsNorm(l.kNorm(), c.rmsEpsilon()), k);
            }
            List<String> qk = g.add(p + ".attn.rope", ropes.ofLayer(c, i), q, k, positions);
            q = qk.get(0);
            k = qk.get(1);
            String a = g.add1(p + ".attn", new Attention(c.heads(), c.kvHeads(), c.headDim(), true, c.attentionScale())
                    .withWindow(c.attentionWindow(i)).withSoftcap(c.softcaps().attention()), q, k, v);
            if (i == c.layers() - 1 && tokens > 1 && !allLogits) {
                // Only the last token's logits are wanted, and from here on every op works row by row: the last
                // layer's output projection and MLP run on that row alone (its keys and values, above, went into the
                // KV cache for every row). The row's bits are what the whole-prompt run gives it.
                a = g.add1(p + ".attn.last_token", new LastToken(), a);
                x = g.add1(p + ".last_token", new LastToken(), x);
            }
            // The residual connections are added in the output projections' launches (BlockLinear's residual input), or,
            // with Gemma 3's norms after the attention and the feed-forward, after those norms.
            String[] aq = quantize(g, p + ".attn.out.quantize", a);
            String h1 = c.postNorms()
                    ? g.add1(p + ".attn.residual", new Add(), g.add1(p + ".attn.post_norm", new RmsNorm(l.attentionPostNorm(), c.rmsEpsilon()),
                            g.add1(p + ".attn.out", linear(l.wo(), null), aq)), x)
                    : g.add1(p + ".attn.out", linear(l.wo(), null).withResidual(), withInput(aq, x));
            String[] n2q = normQuantize(g, p + ".mlp.norm", l.ffnNorm(), c, h1);
            List<String> gateUp = linears(g, p + ".mlp", List.of("gate", "up"), List.of(linear(l.gate(), null), linear(l.up(), null)), n2q);
            String gate = gateUp.get(0), up = gateUp.get(1);
            String[] act = (c.geluGate() ? g.add(p + ".mlp.gelu_gate", new GeluGateBlockQuantize(), gate, up)
                    : g.add(p + ".mlp.silu_gate", new SiluGateBlockQuantize(), gate, up)).toArray(String[]::new);
            x = c.postNorms()
                    ? g.add1(p + ".mlp.residual", new Add(), g.add1(p + ".mlp.post_norm", new RmsNorm(l.ffnPostNorm(), c.rmsEpsilon()),
                            g.add1(p + ".mlp.down", linear(l.down(), null), act)), h1)
                    : g.add1(p + ".mlp.down", linear(l.down(), null).withResidual(), withInput(act, h1));
        }
        g.layer("head");
        String logits = g.add1(LOGITS, linear(w.output(), null), normQuantize(g, "final_norm", w.outputNorm(), c, x));
        return g.output(logits).build();
    }

    /** RMSNorm and the per-block quantization of its result, one node (the normed floats feed nothing else). */
    private static String[] normQuantize(GraphBuilder g, String name, float[] gamma, DecoderConfig c, String x) {
        return g.add(name, new RmsNormBlockQuantize(gamma, c.rmsEpsilon()), x).toArray(String[]::new);
    }

    private static String[] quantize(GraphBuilder g, String name, String x) {
        return g.add(name, new DynamicQuantize(DynamicQuantize.Mode.PER_BLOCK_INT8), x).toArray(String[]::new);
    }

    /**
     * Linears of one input: one {@link BlockLinearGroup} node {@code prefix.a_b_c} (one launch) for the parts that fit
     * one together (a Q4_K_M file may mix Q4_K and Q6_K among them: then Q and K are {@code prefix.q_k}, V is
     * {@code prefix.v}), a node {@code prefix.a} for each part that fits with no other. Their outputs, in order.
     */
    private static List<String> linears(GraphBuilder g, String prefix, List<String> names, List<BlockLinear> parts, String[] x) {
        String[] out = new String[parts.size()];
        boolean[] placed = new boolean[parts.size()];
        for (int i = 0; i < parts.size(); i++) {
            if (placed[i]) continue;
            List<Integer> together = new java.util.ArrayList<>(List.of(i));
            for (int j = i + 1; j < parts.size(); j++) {
                if (!placed[j] && BlockLinearGroup.fits(List.of(parts.get(i), parts.get(j)))) together.add(j);
            }
            for (int j : together) placed[j] = true;
            if (together.size() == 1) {
                out[i] = g.add1(prefix + "." + names.get(i), parts.get(i), x);
                continue;
            }
            List<String> outputs = g.add(prefix + "." + String.join("_", together.stream().map(names::get).toList()),
                    new BlockLinearGroup(together.stream().map(parts::get).toList()), x);
            for (int k = 0; k < together.size(); k++) out[together.get(k)] = outputs.get(k);
        }
        return List.of(out);
    }

    private static String[] withInput(String[] inputs, String more) {
        String[] out = java.util.Arrays.copyOf(inputs, inputs.length + 1);
        out[inputs.length] = more;
        return out;
    }

    private static BlockLinear linear(BlockMatrix m, float[] bias) { return new BlockLinear(m.cols(), m.rows(), m, bias); }
}
