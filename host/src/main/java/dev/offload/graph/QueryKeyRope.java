package dev.offload.graph;

import java.util.Arrays;
import java.util.List;

/**
 * {@link RotaryEmbedding} of a layer's queries and keys as one node (one launch): inputs q [B, S, qHeads * headDim],
 * k [B, S, kHeads * headDim] and positions int32 [B, S]; outputs the turned q and k, each exactly what its own
 * rope node gives. The two embeddings must share the head dimension, the layout and the tables (keys are the
 * queries' {@link RotaryEmbedding#withHeads}), which the device holds once.
 */
public record QueryKeyRope(RotaryEmbedding query, RotaryEmbedding key) implements Op {
    public QueryKeyRope {
        Op.require(query.headDim() == key.headDim() && query.style() == key.style()
                        && Arrays.equals(query.cos(), key.cos()) && Arrays.equals(query.sin(), key.sin()),
                "query and key rope must share head dimension, layout and tables: " + query.describe() + " vs " + key.describe());
    }

    @Override public OpKind kind() { return OpKind.ROPE_QUERY_KEY; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 3, 3, "rope q, k");
        return List.of(query.outputTypes(List.of(in.get(0), in.get(2))).getFirst(), key.outputTypes(List.of(in.get(1), in.get(2))).getFirst());
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        return query.cost(List.of(in.get(0), in.get(2)), out.subList(0, 1)).plus(key.cost(List.of(in.get(1), in.get(2)), out.subList(1, 2)));
    }

    @Override public long weightBytes() { return query.weightBytes(); }

    @Override public String describe() { return query.describe() + " + k " + key.heads(); }
}
