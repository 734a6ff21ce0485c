package dev.offload.graph;

import java.util.List;

/**
 * What a node computes. Ops are records that hold their weights (host arrays) and attributes; they know
 * their output types and their cost, and nothing about devices: implementations live with
 * their op family in {@code dev.offload.ops} and are looked up by op class ({@code dev.offload.runtime.OpImplementations}).
 */
public sealed interface Op permits Int8Linear, Int8LinearGroup, BlockLinear, BlockLinearGroup, SparseLinear, Fp32Linear, Attention, LayerNorm, LayerNormQuantize, RmsNorm, Gelu,
        SiluGate, RmsNormBlockQuantize, SiluGateBlockQuantize, GeluGateBlockQuantize, Add, DynamicQuantize, Dequantize, Embedding, MeanPool, RotaryEmbedding, QueryKeyRope, LastToken {

    /** The op's kind: what placement rules address and profiles sum over. */
    OpKind kind();

    /** The types of the outputs for inputs of the given types; throws IllegalArgumentException on a mismatch. */
    List<TensorType> outputTypes(List<TensorType> inputs);

    /** What one execution costs, given its input and output types. */
    Cost cost(List<TensorType> inputs, List<TensorType> outputs);

    /** Bytes of weights this op holds (uploaded once per device). */
    default long weightBytes() { return 0; }

    /** A short description of the attributes for plans and tables. */
    default String describe() { return kind().key(); }

    static void require(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException(what);
    }

    static void arity(List<TensorType> in, int min, int max, String op) {
        require(in.size() >= min && in.size() <= max,
                op + " takes " + (min == max ? min : min + ".." + max) + " inputs, got " + in.size());
    }
}
