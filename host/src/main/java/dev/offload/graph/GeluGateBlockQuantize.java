package dev.offload.graph;

import java.util.List;

/**
 * GeGLU's product, gelu(a) * b with GELU's tanh form (Gemma's gated feed-forward), followed by {@link DynamicQuantize}
 * per block of 32 (int8, ggml's block_q8_0), as one node: the product feeds only the block-quantized down projection.
 * Inputs a (gate) and b (up), float32 of one shape whose last axis is a multiple of 32; outputs the quantize node's
 * three. The counterpart of {@link SiluGateBlockQuantize} for models whose gate is GELU.
 */
public record GeluGateBlockQuantize() implements Op {
    private static final DynamicQuantize QUANTIZE = new DynamicQuantize(DynamicQuantize.Mode.PER_BLOCK_INT8);

    @Override public OpKind kind() { return OpKind.GELU_GATE_QUANTIZE; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) { return QUANTIZE.outputTypes(new SiluGate().outputTypes(in)); }

    @Override public Cost cost(List<TensorType> in, List<TensorType> out) { return Cost.elementwise(in, out, 12 + 5); }
}
