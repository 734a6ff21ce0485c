package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/**
 * x [B, S, C] → its last token's row [B, 1, C]: a decoder's prefill needs the logits of the last prompt token only,
 * so the output projection (hidden × vocab, the largest matrix) runs on one row instead of S.
 */
public record LastToken() implements Op {
    @Override public OpKind kind() { return OpKind.LAST_TOKEN; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 1, 1, "last_token");
        TensorType x = in.getFirst();
        Op.require(x.dtype() == DType.FLOAT32 && x.rank() == 3 && x.dim(1) >= 1, "last_token takes float32 [B, S, C], got " + x);
        return List.of(TensorType.of(DType.FLOAT32, x.dim(0), 1, x.dim(2)));
    }

    @Override public Cost cost(List<TensorType> in, List<TensorType> out) { return new Cost(0, out.getFirst().bytes(), out.getFirst().bytes()); }
}
