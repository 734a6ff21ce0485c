package dev.offload.graph;

import java.util.List;

/**
 * What a node computes. Ops are records that hold their weights (host arrays) and attributes; they know
 * their output types and their cost, and nothing about devices: implementations live in
 * {@code dev.offload.runtime} and are looked up by {@link #opKind()}.
 */
public sealed interface Op permits Int8Linear, SparseLinear, FloatLinear, Attention, LayerNorm, RmsNorm, Gelu,
        SiluGate, Add, Quantize, Dequantize, Embedding, MeanPool {

    /** The op's kind, the name placement rules and implementations use ({@code linear}, {@code attention}, ...). */
    String opKind();

    /** The types of the outputs for inputs of the given types; throws IllegalArgumentException on a mismatch. */
    List<TensorType> outputTypes(List<TensorType> inputs);

    /** What one execution costs, given its input and output types. */
    Cost cost(List<TensorType> inputs, List<TensorType> outputs);

    /** Bytes of weights this op holds (uploaded once per device). */
    default long weightBytes() { return 0; }

    /** A short description of the attributes for plans and tables. */
    default String describe() { return opKind(); }

    static void require(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException(what);
    }

    static void arity(List<TensorType> in, int min, int max, String op) {
        require(in.size() >= min && in.size() <= max,
                op + " takes " + (min == max ? min : min + ".." + max) + " inputs, got " + in.size());
    }
}
