package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/**
 * Mean over the sequence: x [B, S, H] -> [B, H], averaging the first lengths[b] tokens when int32 lengths [B]
 * are given (sentence embeddings over a padded batch), else all S. A length of 0 gives zeros.
 */
public record MeanPool() implements Op {
    @Override public OpKind kind() { return OpKind.POOL; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 1, 2, "pool");
        TensorType x = in.getFirst();
        Op.require(x.dtype() == DType.FLOAT32 && x.rank() == 3, "pool takes float32 [B, S, H], got " + x);
        if (in.size() == 2) {
            Op.require(in.get(1).dtype() == DType.INT32 && in.get(1).shape().equals(List.of(x.dim(0))),
                    "pool lengths must be int32 [B], got " + in.get(1));
        }
        return List.of(TensorType.of(DType.FLOAT32, x.dim(0), x.dim(2)));
    }

    @Override public Cost cost(List<TensorType> in, List<TensorType> out) { return Cost.elementwise(in, List.of(in.getFirst()), 1).plus(new Cost(0, 0, out.getFirst().bytes())); }
}
