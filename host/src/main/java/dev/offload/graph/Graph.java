package dev.offload.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model as a list of nodes in topological order (every input is a graph input or an earlier node's output),
 * with the types of all tensors. Immutable and shareable between threads; build one with {@link GraphBuilder}.
 */
public final class Graph {
    private final String name;
    private final List<TensorDef> inputs;
    private final List<TensorDef> outputs;
    private final List<Node> nodes;
    private final Map<String, TensorDef> tensors;
    private final Map<String, Integer> lastUse;

    Graph(String name, List<TensorDef> inputs, List<String> outputs, List<Node> nodes, Map<String, TensorDef> tensors) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.nodes = List.copyOf(nodes);
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        this.outputs = outputs.stream().map(this::tensor).toList();
        this.lastUse = computeLastUse();
        check();
    }

    public String name() { return name; }

    public List<TensorDef> inputs() { return inputs; }

    public List<TensorDef> outputs() { return outputs; }

    public List<Node> nodes() { return nodes; }

    public TensorDef tensor(String name) {
        TensorDef t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("graph " + this.name + " has no tensor '" + name + "'");
        return t;
    }

    public Node node(String name) {
        for (Node n : nodes) if (n.name().equals(name)) return n;
        throw new IllegalArgumentException("graph " + this.name + " has no node '" + name + "'");
    }

    /** The index of the last node reading a tensor (graph outputs count as read after the last node), or -1. */
    public int lastUse(String tensor) { return lastUse.getOrDefault(tensor, -1); }

    /** The op kinds present, in order of first appearance. */
    public List<OpKind> opKinds() {
        Set<OpKind> kinds = new java.util.LinkedHashSet<>();
        for (Node n : nodes) kinds.add(n.kind());
        return List.copyOf(kinds);
    }

    /** The layer names in order of first appearance. */
    public List<String> layers() {
        Set<String> layers = new java.util.LinkedHashSet<>();
        for (Node n : nodes) layers.add(n.layer());
        return List.copyOf(layers);
    }

    public List<TensorType> inputTypes(Node n) { return n.inputs().stream().map(t -> tensor(t).type()).toList(); }

    public List<TensorType> outputTypes(Node n) { return n.outputs().stream().map(t -> tensor(t).type()).toList(); }

    public Cost cost(Node n) { return n.op().cost(inputTypes(n), outputTypes(n)); }

    public long weightBytes() { return nodes.stream().mapToLong(n -> n.op().weightBytes()).sum(); }

    private Map<String, Integer> computeLastUse() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < nodes.size(); i++) for (String in : nodes.get(i).inputs()) m.put(in, i);
        for (TensorDef o : outputs) m.put(o.name(), nodes.size());
        return m;
    }

    private void check() {
        Set<String> known = new HashSet<>();
        for (TensorDef t : inputs) known.add(t.name());
        Set<String> nodeNames = new HashSet<>();
        for (Node n : nodes) {
            if (!nodeNames.add(n.name())) throw new IllegalArgumentException("graph " + name + ": two nodes named " + n.name());
            for (String in : n.inputs()) {
                if (!known.contains(in)) {
                    throw new IllegalArgumentException("graph " + name + ": node " + n.name() + " reads '" + in
                            + "' before any node writes it (nodes must be in topological order)");
                }
            }
            for (String out : n.outputs()) {
                if (!known.add(out)) throw new IllegalArgumentException("graph " + name + ": tensor '" + out + "' written twice");
            }
        }
        for (TensorDef o : outputs) {
            if (!known.contains(o.name())) throw new IllegalArgumentException("graph " + name + ": output '" + o.name() + "' is never written");
        }
    }

    /** One line per node: name, op, inputs -> outputs with types. */
    public String describe() {
        StringBuilder sb = new StringBuilder("graph " + name + ": " + nodes.size() + " nodes, "
                + String.format("%.1f MB weights", weightBytes() / 1e6) + "\n");
        for (Node n : nodes) {
            List<String> outs = new ArrayList<>();
            for (String o : n.outputs()) outs.add(tensor(o).toString());
            sb.append("  ").append(n.name()).append(" [").append(n.op().describe()).append("] ")
                    .append(n.inputs()).append(" -> ").append(outs).append('\n');
        }
        return sb.toString();
    }
}
