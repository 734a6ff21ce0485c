package dev.offload.graph;

import java.util.List;

/**
 * A {@link LayerNorm} followed by {@link DynamicQuantize} per sentence ({@link DynamicQuantize.Mode#PER_SENTENCE_UINT8})
 * of its output, as one node: an encoder's norms feed both the next residual (the float rows) and the next int8
 * linears (the quantized rows), so the node outputs both. On a CPU device one launch does both where the quantize
 * alone would run a work-item per sentence anyway; the result is exactly the unfused pair's.
 *
 * <p>Inputs: x [B, S, C], optionally a residual of x's type (the norm's, see {@link LayerNorm}), then the int32
 * key lengths [B] that bound each sentence's range. Outputs: the normed float32 x [B, S, C], then the quantize node's
 * three (uint8 data [B, S, C], scales [B * S], zero points [B * S], each row its sentence's).
 */
public record LayerNormQuantize(LayerNorm norm) implements Op {
    private static final DynamicQuantize QUANTIZE = new DynamicQuantize(DynamicQuantize.Mode.PER_SENTENCE_UINT8);

    @Override public OpKind kind() { return OpKind.LAYER_NORM_QUANTIZE; }

    /** Whether the inputs include a residual (x, residual, lengths) or not (x, lengths). */
    public static boolean hasResidual(List<?> inputs) { return inputs.size() == 3; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 2, 3, "layer_norm_quantize");
        List<TensorType> normIn = in.subList(0, in.size() - 1);
        TensorType y = norm.outputTypes(normIn).getFirst();
        List<TensorType> q = QUANTIZE.outputTypes(List.of(y, in.getLast()));
        return List.of(y, q.get(0), q.get(1), q.get(2));
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        List<TensorType> normIn = in.subList(0, in.size() - 1);
        return norm.cost(normIn, out.subList(0, 1)).plus(QUANTIZE.cost(List.of(out.getFirst(), in.getLast()), out.subList(1, 4)));
    }

    @Override public long weightBytes() { return norm.weightBytes(); }

    @Override public String describe() { return "layer norm + quantize per sentence"; }
}
