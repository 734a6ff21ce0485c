package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/** y = silu(a) * b = a * sigmoid(a) * b: Llama's SwiGLU, a = gate projection, b = up projection. */
public record SiluGate() implements Op {
    @Override public OpKind kind() { return OpKind.SILU_GATE; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 2, 2, "silu_gate");
        Op.require(in.get(0).dtype() == DType.FLOAT32 && in.get(0).equals(in.get(1)),
                "silu_gate takes two float32 tensors of one shape, got " + in);
        return List.of(in.getFirst());
    }

    @Override public Cost cost(List<TensorType> in, List<TensorType> out) { return Cost.elementwise(in, out, 6); }
}
