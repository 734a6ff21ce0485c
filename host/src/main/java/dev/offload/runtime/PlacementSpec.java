package dev.offload.runtime;

import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where a model's nodes should run, as the user asked: explicit {@link Rules} (one device spec is the rule
 * {@code *=SPEC}) or {@link Auto} (measure each op kind on each device). Parsed once at the edge ({@link #parse});
 * {@link #plan} is the one place that turns either into an {@link ExecutionPlan}.
 */
public sealed interface PlacementSpec {
    /** Placement rules ({@code attention=cl:gpu,*=cl:cpu}), or one device for everything. */
    record Rules(Placement placement) implements PlacementSpec {
        @Override public String toString() { return placement.rules().size() == 1 && placement.rules().containsKey("*")
                ? placement.rules().get("*") : placement.toString(); }
    }

    /** Measured placement ({@link AutoPlacer}), cached per device and driver. */
    record Auto() implements PlacementSpec {
        @Override public String toString() { return "auto"; }
    }

    /** {@code auto}, rules, or a single device spec. */
    static PlacementSpec parse(String text) {
        if (text != null && text.strip().toLowerCase(Locale.ROOT).equals("auto")) return new Auto();
        return new Rules(Placement.parse(text));
    }

    /** Every node on one device. */
    static PlacementSpec device(String spec) { return new Rules(Placement.everything(spec)); }

    /** A command's {@code --placement} rules, else its {@code --device}, else null (the session's default device). */
    static PlacementSpec fromOptions(String device, String placement) {
        return placement != null ? parse(placement) : device != null ? device(device) : null;
    }

    /** The single device spec when every node goes to one device, else null. */
    default String singleDevice() {
        return this instanceof Rules r && r.placement().rules().size() == 1 ? r.placement().rules().get("*") : null;
    }

    /**
     * The plan for {@code graph} on devices of {@code pool}.
     *
     * @param log where auto placement reports its measurements (null: quiet)
     */
    default ExecutionPlan plan(Graph graph, DevicePool pool, OpImplementations implementations, PrintStream log) {
        return switch (this) {
            case Rules r -> ExecutionPlan.of(graph, r.placement(), pool);
            case Auto a -> new AutoPlacer(AutoPlacer.defaultCache(), implementations,
                    log != null ? log : new PrintStream(java.io.OutputStream.nullOutputStream())).plan(graph, pool);
        };
    }

    /**
     * The plan of a graph that shares its node names with one already planned (a decode-step graph beside its prefill
     * graph): the same rules, or for auto the device {@code planned} chose for each node, so both stay together.
     */
    default ExecutionPlan planAlike(Graph graph, ExecutionPlan planned, DevicePool pool) {
        return switch (this) {
            case Rules r -> ExecutionPlan.of(graph, r.placement(), pool);
            case Auto a -> {
                Map<String, String> byNode = new LinkedHashMap<>();
                for (Node n : graph.nodes()) byNode.put(n.name(), planned.deviceFor(planned.graph().node(n.name())).spec());
                yield ExecutionPlan.of(graph, new Placement(byNode), pool);
            }
        };
    }
}
