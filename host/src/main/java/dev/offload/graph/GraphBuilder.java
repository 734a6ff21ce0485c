package dev.offload.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Graph} in execution order: declare inputs, add nodes (their output types are inferred and
 * checked as they are added), mark outputs. {@link #layer(String)} sets the layer later nodes belong to.
 */
public final class GraphBuilder {
    private final String name;
    private final List<TensorDef> inputs = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, TensorDef> tensors = new LinkedHashMap<>();
    private String layer = "model";

    public GraphBuilder(String name) { this.name = name; }

    public GraphBuilder layer(String layer) {
        this.layer = layer;
        return this;
    }

    public String input(String name, TensorType type) {
        TensorDef t = new TensorDef(name, type);
        define(t);
        inputs.add(t);
        return name;
    }

    private void define(TensorDef t) {
        if (tensors.putIfAbsent(t.name(), t) != null) throw new IllegalArgumentException("tensor '" + t.name() + "' defined twice");
    }

    public TensorType type(String tensor) {
        TensorDef t = tensors.get(tensor);
        if (t == null) throw new IllegalArgumentException("no tensor '" + tensor + "' yet");
        return t.type();
    }

    /** Adds a node named {@code nodeName}; its outputs are named {@code nodeName} (one output) or {@code nodeName.i}. */
    public List<String> add(String nodeName, Op op, String... inputNames) {
        List<TensorType> in = new ArrayList<>();
        for (String i : inputNames) in.add(type(i));
        List<TensorType> outTypes;
        try {
            outTypes = op.outputTypes(in);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("node " + nodeName + ": " + e.getMessage(), e);
        }
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < outTypes.size(); i++) {
            String o = outTypes.size() == 1 ? nodeName : nodeName + "." + i;
            define(new TensorDef(o, outTypes.get(i)));
            outs.add(o);
        }
        nodes.add(new Node(nodeName, op, List.of(inputNames), outs, layer));
        return outs;
    }

    /** {@link #add} for single-output ops. */
    public String add1(String nodeName, Op op, String... inputNames) { return add(nodeName, op, inputNames).getFirst(); }

    public GraphBuilder output(String tensor) {
        type(tensor);
        outputs.add(tensor);
        return this;
    }

    public Graph build() { return new Graph(name, inputs, outputs, nodes, tensors); }
}
