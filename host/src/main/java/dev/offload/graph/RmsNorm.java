package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/** y = x / sqrt(mean(x^2) + eps) * gamma over the last dimension (Llama). */
public record RmsNorm(float[] gamma, float epsilon) implements Op {
    @Override public OpKind kind() { return OpKind.RMS_NORM; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 1, 1, "rms_norm");
        Op.require(in.getFirst().dtype() == DType.FLOAT32 && in.getFirst().last() == gamma.length,
                "rms_norm expects float32 [..., " + gamma.length + "], got " + in.getFirst());
        return List.of(in.getFirst());
    }

    @Override public Cost cost(List<TensorType> in, List<TensorType> out) { return Cost.elementwise(in, out, 4).plus(new Cost(0, weightBytes(), 0)); }

    @Override public long weightBytes() { return 4L * gamma.length; }
}
