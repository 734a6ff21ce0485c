package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/**
 * y = x / sqrt(mean(x^2) + eps) * gamma over each run of {@code gamma.length} values of the last dimension: the whole
 * last dimension (Llama's norms), or each head of it where the last dimension holds several (Qwen3's Q and K norms,
 * gamma one head wide).
 */
public record RmsNorm(float[] gamma, float epsilon) implements Op {
    @Override public OpKind kind() { return OpKind.RMS_NORM; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 1, 1, "rms_norm");
        Op.require(in.getFirst().dtype() == DType.FLOAT32 && gamma.length > 0 && in.getFirst().last() % gamma.length == 0,
                "rms_norm expects float32 [..., a multiple of " + gamma.length + "], got " + in.getFirst());
        return List.of(in.getFirst());
    }

    /** Rows the norm takes in a tensor of this type: every run of {@code gamma.length} values. */
    public long normRows(TensorType t) { return t.elements() / gamma.length; }

    @Override public Cost cost(List<TensorType> in, List<TensorType> out) { return Cost.elementwise(in, out, 4).plus(new Cost(0, weightBytes(), 0)); }

    @Override public long weightBytes() { return 4L * gamma.length; }
}
