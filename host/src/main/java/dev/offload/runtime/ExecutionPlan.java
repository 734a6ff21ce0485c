package dev.offload.runtime;

import dev.offload.device.ComputeDevice;
import dev.offload.device.JavaDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.OpKind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each node runs, and where it goes when its device fails: the other devices of the plan in order of
 * first use, then java.
 */
public final class ExecutionPlan {
    private final Graph graph;
    private final Map<String, ComputeDevice> placement;
    private final List<ComputeDevice> devices;

    public ExecutionPlan(Graph graph, Map<String, ComputeDevice> placement) {
        this.graph = graph;
        this.placement = new LinkedHashMap<>(placement);
        List<ComputeDevice> ds = new ArrayList<>();
        for (Node n : graph.nodes()) {
            ComputeDevice d = placement.get(n.name());
            if (d == null) throw new IllegalArgumentException("the plan places no device for node " + n.name());
            if (!ds.contains(d)) ds.add(d);
        }
        this.devices = List.copyOf(ds);
    }

    /** Resolves placement rules against a pool of devices. */
    public static ExecutionPlan of(Graph graph, Placement rules, DevicePool pool) {
        List<String> unused = rules.unusedKeys(graph);
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException("placement keys " + unused + " match no node name, layer or op kind; layers: " + graph.layers()
                    + ", op kinds: " + graph.opKinds());
        }
        Map<String, ComputeDevice> m = new LinkedHashMap<>();
        for (Node n : graph.nodes()) m.put(n.name(), pool.get(rules.deviceFor(n)));
        return new ExecutionPlan(graph, m);
    }

    public Graph graph() { return graph; }

    public ComputeDevice deviceFor(Node n) { return placement.get(n.name()); }

    /** The devices the plan uses, in order of first use. */
    public List<ComputeDevice> devices() { return devices; }

    /** The node's device, then the plan's other devices, then java. */
    public List<ComputeDevice> chain(Node n) {
        List<ComputeDevice> out = new ArrayList<>();
        out.add(deviceFor(n));
        for (ComputeDevice d : devices) if (!out.contains(d)) out.add(d);
        if (!out.contains(JavaDevice.INSTANCE)) out.add(JavaDevice.INSTANCE);
        return out;
    }

    /** One line per op kind (and per node placed apart from its kind): where it runs. */
    public String describe() {
        Map<OpKind, Map<String, Integer>> byKind = new LinkedHashMap<>();
        for (Node n : graph.nodes()) {
            byKind.computeIfAbsent(n.kind(), k -> new LinkedHashMap<>()).merge(deviceFor(n).spec(), 1, Integer::sum);
        }
        StringBuilder sb = new StringBuilder("placement:\n");
        byKind.forEach((kind, devs) -> {
            sb.append(String.format("  %-" + OpKind.KEY_WIDTH + "s ", kind));
            List<String> parts = new ArrayList<>();
            devs.forEach((d, count) -> parts.add(d + " (" + count + " node" + (count == 1 ? "" : "s") + ")"));
            sb.append(String.join(", ", parts)).append('\n');
        });
        return sb.toString();
    }

    /** Index ranges [from, to) of consecutive nodes the plan puts on one device: the pipeline's stages. */
    public List<int[]> stages() {
        List<int[]> out = new ArrayList<>();
        List<Node> nodes = graph.nodes();
        int from = 0;
        for (int i = 1; i <= nodes.size(); i++) {
            if (i == nodes.size() || deviceFor(nodes.get(i)) != deviceFor(nodes.get(from))) {
                out.add(new int[] {from, i});
                from = i;
            }
        }
        return out;
    }
}
