package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/**
 * Scaled dot-product attention over token-major activations, the layout linears produce:
 * q [B, Sq, heads*headDim], k and v [B, Skv, kvHeads*headDim], optional key lengths int32 [B] (key-padding
 * mask: keys at positions >= length are ignored, BERT's attention_mask with right padding). Output
 * [B, Sq, heads*headDim]. Query head h reads kv head h / (heads / kvHeads) (grouped-query attention).
 *
 * <p>Causal: query i (0-based within the Sq new tokens) sees keys j <= i + (Skv - Sq), so a prefill
 * (Sq = Skv) is the usual lower triangle and a decode step over a KV cache (Sq = 1, Skv = past + 1) sees all keys.
 *
 * <p>Scores are {@code scale * q·k} in the op's own arithmetic (the Java reference in double, the kernels in float
 * with online softmax). With {@code onnxDivisor > 0} they are {@code (q·k) / onnxDivisor} instead, and the whole op
 * rounds as ONNX Runtime's CPU provider rounds an exported BERT graph's attention (MatMul, Div, Softmax, MatMul:
 * fused multiply-add chains in order, MLAS's softmax; dev.offload.math.OnnxRuntimeCpu), so that an imported model's
 * activations match ONNX Runtime bit for bit ({@link #onnxRuntime}; not causal).
 */
public record Attention(int heads, int kvHeads, int headDim, boolean causal, float scale, float onnxDivisor, int window, float softcap) implements Op {
    public Attention {
        Op.require(heads > 0 && kvHeads > 0 && headDim > 0, "attention needs positive heads, kvHeads and headDim");
        Op.require(heads % kvHeads == 0, "heads (" + heads + ") must be a multiple of kvHeads (" + kvHeads + ")");
        Op.require(onnxDivisor >= 0 && !(onnxDivisor > 0 && causal), "ONNX Runtime arithmetic is for non-causal attention with a positive divisor");
        Op.require(window >= 0 && (window == 0 || causal), "a sliding window needs causal attention and >= 1 keys, got " + window);
        Op.require(softcap >= 0 && Float.isFinite(softcap) && !(softcap > 0 && onnxDivisor > 0), "a soft cap must be >= 0, finite, not ONNX Runtime's form: " + softcap);
    }

    public Attention(int heads, int kvHeads, int headDim, boolean causal, float scale, float onnxDivisor) {
        this(heads, kvHeads, headDim, causal, scale, onnxDivisor, 0, 0f);
    }

    public Attention(int heads, int kvHeads, int headDim, boolean causal, float scale) {
        this(heads, kvHeads, headDim, causal, scale, 0f);
    }

    /**
     * This causal attention with a sliding window: each query sees only the last {@code keys} keys up to its own
     * position (Gemma 3's local layers; 0: the whole past).
     */
    public Attention withWindow(int keys) { return new Attention(heads, kvHeads, headDim, causal, scale, onnxDivisor, keys, softcap); }

    /** This attention with each scaled score s taken to c * tanh(s / c) before the softmax (Gemma 2; 0: none). */
    public Attention withSoftcap(float c) { return new Attention(heads, kvHeads, headDim, causal, scale, onnxDivisor, window, c); }

    public static Attention of(int heads, int kvHeads, int headDim, boolean causal) {
        return new Attention(heads, kvHeads, headDim, causal, (float) (1.0 / Math.sqrt(headDim)));
    }

    /** An exported BERT graph's attention, scores divided by {@code divisor}, rounded as ONNX Runtime rounds it. */
    public static Attention onnxRuntime(int heads, int headDim, float divisor) {
        return new Attention(heads, heads, headDim, false, 1f / divisor, divisor);
    }

    /** Whether this op reproduces ONNX Runtime's rounding (see the class comment). */
    public boolean onnxRuntime() { return onnxDivisor > 0; }

    @Override public OpKind kind() { return OpKind.ATTENTION; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 3, 4, "attention");
        TensorType q = in.get(0), k = in.get(1), v = in.get(2);
        Op.require(q.rank() == 3 && q.dtype() == DType.FLOAT32 && q.last() == heads * headDim,
                "attention q must be float32 [B, Sq, " + heads * headDim + "], got " + q);
        List<Integer> kvShape = List.of(q.dim(0), k.dim(1), kvHeads * headDim);
        Op.require(k.dtype() == DType.FLOAT32 && k.shape().equals(kvShape), "attention k must be float32 " + kvShape + ", got " + k);
        Op.require(v.dtype() == DType.FLOAT32 && v.shape().equals(kvShape), "attention v must be float32 " + kvShape + ", got " + v);
        Op.require(!causal || k.dim(1) >= q.dim(1), "causal attention needs Skv >= Sq");
        if (in.size() == 4) {
            Op.require(in.get(3).dtype() == DType.INT32 && in.get(3).shape().equals(List.of(q.dim(0))),
                    "attention key lengths must be int32 [B=" + q.dim(0) + "], got " + in.get(3));
        }
        return List.of(q);
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        TensorType q = in.get(0), k = in.get(1);
        long b = q.dim(0), sq = q.dim(1), skv = k.dim(1);
        // QK^T and PV (2 flops per multiply-add each) plus ~5 per score for scale, max, exp, sum, divide;
        // causal masking skips about half of the scores of a prefill.
        double visible = causal && sq == skv ? (sq + 1) / 2.0 / sq : 1.0;
        long scores = (long) (b * heads * sq * skv * visible);
        long read = 0;
        for (TensorType t : in) read += t.bytes();
        return new Cost(scores * (4L * headDim + 5), read, out.getFirst().bytes());
    }

    @Override
    public String describe() {
        return "attention " + heads + "x" + headDim + (kvHeads != heads ? " gqa kv=" + kvHeads : "") + (causal ? " causal" : "")
                + (window > 0 ? " window " + window : "") + (softcap > 0 ? " softcap " + softcap : "")
                + (onnxRuntime() ? " onnx" : "");
    }
}
