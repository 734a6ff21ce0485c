package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/** Element-wise a + b of one shape (residual connections, embedding sums). */
public record Add() implements Op {
    @Override public OpKind kind() { return OpKind.ADD; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 2, 2, "add");
        Op.require(in.get(0).dtype() == DType.FLOAT32 && in.get(0).equals(in.get(1)),
                "add takes two float32 tensors of one shape, got " + in);
        return List.of(in.getFirst());
    }

    @Override public Cost cost(List<TensorType> in, List<TensorType> out) { return Cost.elementwise(in, out, 1); }
}
