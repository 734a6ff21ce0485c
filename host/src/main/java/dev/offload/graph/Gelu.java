package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/** Stand-alone GELU, exact (erf) or tanh-approximated, for graphs whose linear does not fuse it. */
public record Gelu(boolean tanhApproximation) implements Op {
    @Override public OpKind kind() { return OpKind.GELU; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 1, 1, "gelu");
        Op.require(in.getFirst().dtype() == DType.FLOAT32, "gelu takes float32, got " + in.getFirst());
        return List.of(in.getFirst());
    }

    @Override public Cost cost(List<TensorType> in, List<TensorType> out) { return Cost.elementwise(in, out, 12); }
}
