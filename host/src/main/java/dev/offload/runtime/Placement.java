package dev.offload.runtime;

import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.OpKind;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Placement rules as written on the command line: {@code attention=cl:gpu,linear=cl:accelerator,*=cl:cpu}.
 * A key is a node name, a layer ({@code layer.0}: splits a model across devices for pipelining), a range of layers
 * ({@code layer.0-7}, both ends included: the rule for each of them) or an op kind; a node takes the rule for its
 * name, else for its layer, else for its kind, else {@code *}.
 * A single device spec ({@code cl:cpu}) means {@code *=cl:cpu}. {@code auto} is handled by {@link AutoPlacer}.
 */
public record Placement(Map<String, String> rules) {
    public Placement {
        rules = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(rules));
    }

    public static Placement everything(String deviceSpec) { return new Placement(Map.of("*", deviceSpec)); }

    public static Placement parse(String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("empty placement: give a device spec or rules like linear=cl:gpu,*=cl:cpu");
        if (!text.contains("=") || text.strip().startsWith("cl:name=") && !text.contains(",")) {
            return everything(text.strip());
        }
        Map<String, String> rules = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            String p = part.strip();
            int eq = p.indexOf('=');
            if (eq <= 0 || eq == p.length() - 1) {
                throw new IllegalArgumentException("placement rule '" + p + "' is not KEY=DEVICE (e.g. linear=cl:gpu, *=cl:cpu)");
            }
            String key = p.substring(0, eq).strip(), device = p.substring(eq + 1).strip();
            for (String k : expand(key)) {
                if (rules.put(k, device) != null) throw new IllegalArgumentException("placement names '" + k + "' twice");
            }
        }
        return new Placement(rules);
    }

    private static final java.util.regex.Pattern RANGE = java.util.regex.Pattern.compile("(.*\\.)(\\d{1,5})-(\\d{1,5})");

    /** {@code layer.2-4} is layer.2, layer.3, layer.4; any other key is itself. */
    private static List<String> expand(String key) {
        java.util.regex.Matcher m = RANGE.matcher(key);
        if (!m.matches()) return List.of(key);
        int from = Integer.parseInt(m.group(2)), to = Integer.parseInt(m.group(3));
        if (from > to) throw new IllegalArgumentException("placement range '" + key + "' runs backwards");
        List<String> keys = new java.util.ArrayList<>();
        for (int i = from; i <= to; i++) keys.add(m.group(1) + i);
        return keys;
    }

    /** The device spec for a node. */
    public String deviceFor(Node n) {
        String d = rules.get(n.name());
        if (d == null) d = rules.get(n.layer());
        if (d == null) d = rules.get(n.kind().key());
        if (d == null) d = rules.get("*");
        if (d == null) {
            throw new IllegalArgumentException("no placement rule covers node " + n.name() + " (op kind " + n.opKind()
                    + "); add a rule for it or a default like *=cl:cpu");
        }
        return d;
    }

    /** Rule keys that match no node, layer or op kind of the graph: most likely typos. */
    public List<String> unusedKeys(Graph g) {
        return rules.keySet().stream().filter(k -> !k.equals("*") && OpKind.byKey(k).filter(g.opKinds()::contains).isEmpty()
                && !g.layers().contains(k)
                && g.nodes().stream().noneMatch(n -> n.name().equals(k))).toList();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        rules.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ",").append(k).append('=').append(v));
        return sb.toString();
    }
}
