package dev.offload.runtime;

import dev.offload.graph.Embedding;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.TensorDef;
import java.util.Map;

/** Checks one request's inputs against a graph before anything is enqueued, with errors that name the input. */
final class GraphInputs {
    private GraphInputs() {}

    /** Every graph input present with its exact type, no unknown ones, and token ids inside the vocabulary. */
    static void check(Graph graph, Map<String, HostTensor> inputs) {
        for (TensorDef in : graph.inputs()) {
            HostTensor t = inputs.get(in.name());
            if (t == null) throw new IllegalArgumentException("missing input '" + in.name() + "' (" + in.type() + ")");
            if (!t.type().equals(in.type())) {
                throw new IllegalArgumentException("input '" + in.name() + "' is " + t.type() + ", the graph wants " + in.type());
            }
        }
        for (String name : inputs.keySet()) {
            if (graph.inputs().stream().noneMatch(d -> d.name().equals(name))) {
                throw new IllegalArgumentException("unknown input '" + name + "'; the graph takes " + graph.inputs());
            }
        }
        for (Node n : graph.nodes()) {
            if (n.op() instanceof Embedding e && e.index() == Embedding.Index.TOKEN && inputs.containsKey(n.inputs().getFirst())) {
                int[] ids = inputs.get(n.inputs().getFirst()).ints();
                for (int i = 0; i < ids.length; i++) {
                    if (ids[i] < 0 || ids[i] >= e.vocab()) {
                        throw new IllegalArgumentException("input '" + n.inputs().getFirst() + "' element " + i + " is " + ids[i]
                                + ", outside the vocabulary [0, " + e.vocab() + ") of node " + n.name());
                    }
                }
            }
        }
    }
}
