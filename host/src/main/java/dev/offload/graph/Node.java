package dev.offload.graph;

import java.util.List;

/**
 * One step of a graph: an op applied to named input tensors, producing named outputs. {@code layer} groups
 * nodes for the profile ({@code embed}, {@code layer.0}, ..., {@code head}).
 */
public record Node(String name, Op op, List<String> inputs, List<String> outputs, String layer) {
    public Node {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public OpKind kind() { return op.kind(); }

    /** The kind's name, as placement rules, plans and profiles write it. */
    public String opKind() { return op.kind().key(); }
}
