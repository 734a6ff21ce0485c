package dev.offload.decoder;

import dev.offload.graph.Add;
import dev.offload.graph.Attention;
import dev.offload.graph.BlockLinear;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.LastToken;
import dev.offload.graph.RmsNorm;
import dev.offload.graph.RotaryEmbedding;
import dev.offload.graph.SiluGate;
import dev.offload.graph.TensorType;
import dev.offload.ops.blockq.BlockMatrix;
import dev.offload.tensor.DType;

/**
 * A decoder step as a graph, for {@code tokens} new tokens of one sequence: the prefill (all prompt tokens at once,
 * GEMM-shaped) and the decode step (one token) are the same graph at two sizes, run over a
 * {@link dev.offload.runtime.KvCache} that the causal attention nodes fill and read.
 *
 * <p>Inputs: {@value #X}, the tokens' embedding rows float [1, tokens, hidden] (looked up on the host from the file,
 * {@link QuantizedWeights#embed}), and {@value #POSITIONS}, int32 [1, tokens]. Output {@value #LOGITS} float
 * [1, 1, vocab], the last token's — or [1, tokens, vocab], every token's, when built {@code allLogits} (perplexity). Per layer ({@code layer.i}, what placement rules split): RMSNorm, per-block int8
 * quantization (shared by Q, K and V), block-quantized Q/K/V (with Qwen2's biases), RoPE on Q and K, causal
 * grouped-query attention, output projection, residual; RMSNorm, quantization, gate and up, SiLU gate, quantization,
 * down, residual. Then the last token's row, the final RMSNorm and the output projection ({@code head}).
 */
public final class DecoderGraph {
    public static final String X = "x", POSITIONS = "positions", LOGITS = "logits";

    private DecoderGraph() {}

    public static Graph build(DecoderConfig c, QuantizedWeights w, RotaryEmbedding queryRope, RotaryEmbedding keyRope, int tokens,
                              boolean allLogits) {
        int h = c.hidden(), qd = c.queryDim(), kvd = c.kvDim();
        GraphBuilder g = new GraphBuilder("decoder-" + tokens + (allLogits ? "-all-logits" : ""));
        String x = g.input(X, TensorType.of(DType.FLOAT32, 1, tokens, h));
        String positions = g.input(POSITIONS, TensorType.of(DType.INT32, 1, tokens));
        for (int i = 0; i < c.layers(); i++) {
            QuantizedWeights.Layer l = w.layers().get(i);
            String p = "layer." + i;
            g.layer(p);
            String n1 = g.add1(p + ".attn.norm", new RmsNorm(l.attentionNorm(), c.rmsEpsilon()), x);
            String[] nq = quantize(g, p + ".attn.quantize", n1);
            String q = g.add1(p + ".attn.q", linear(l.wq(), l.bq()), nq);
            String k = g.add1(p + ".attn.k", linear(l.wk(), l.bk()), nq);
            String v = g.add1(p + ".attn.v", linear(l.wv(), l.bv()), nq);
            q = g.add1(p + ".attn.q.rope", queryRope, q, positions);
            k = g.add1(p + ".attn.k.rope", keyRope, k, positions);
            String a = g.add1(p + ".attn", Attention.of(c.heads(), c.kvHeads(), c.headDim(), true), q, k, v);
            String o = g.add1(p + ".attn.out", linear(l.wo(), null), quantize(g, p + ".attn.out.quantize", a));
            String h1 = g.add1(p + ".attn.residual", new Add(), x, o);
            String n2 = g.add1(p + ".mlp.norm", new RmsNorm(l.ffnNorm(), c.rmsEpsilon()), h1);
            String[] n2q = quantize(g, p + ".mlp.quantize", n2);
            String gate = g.add1(p + ".mlp.gate", linear(l.gate(), null), n2q);
            String up = g.add1(p + ".mlp.up", linear(l.up(), null), n2q);
            String act = g.add1(p + ".mlp.silu_gate", new SiluGate(), gate, up);
            String down = g.add1(p + ".mlp.down", linear(l.down(), null), quantize(g, p + ".mlp.down.quantize", act));
            x = g.add1(p + ".mlp.residual", new Add(), h1, down);
        }
        g.layer("head");
        String last = tokens == 1 || allLogits ? x : g.add1("last_token", new LastToken(), x);
        String normed = g.add1("final_norm", new RmsNorm(w.outputNorm(), c.rmsEpsilon()), last);
        String logits = g.add1(LOGITS, linear(w.output(), null), quantize(g, "output.quantize", normed));
        return g.output(logits).build();
    }

    private static String[] quantize(GraphBuilder g, String name, String x) {
        return g.add(name, new DynamicQuantize(DynamicQuantize.Mode.PER_BLOCK_INT8), x).toArray(String[]::new);
    }

    private static BlockLinear linear(BlockMatrix m, float[] bias) { return new BlockLinear(m.cols(), m.rows(), m, bias); }
}
