package dev.offload.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.device.ComputeDevice;
import dev.offload.device.JavaDevice;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Attention;
import dev.offload.graph.Embedding;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.MeanPool;
import dev.offload.graph.Node;
import dev.offload.graph.OpKind;
import dev.offload.graph.TensorType;
import dev.offload.profile.OpSample;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --placement auto}: measures one node of each op kind on each device (java and every OpenCL device), once:
 * times are cached in {@code autoplace.json} under the cache directory, keyed by the device's stable id and driver,
 * the op kind and the node's input shapes. A device's host transfer bandwidth is measured and cached the same way.
 * Then every assignment of op kinds to devices is costed (each node's time scaled from its kind's measurement by
 * operations, plus a transfer for every tensor that crosses devices) and the cheapest becomes the plan.
 */
public final class AutoPlacer {
    private static final Logger log = LoggerFactory.getLogger(AutoPlacer.class);
    private static final double TRANSFER_LATENCY_NS = 30_000;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path cacheFile;
    private final OpImplementations implementations;
    private final PrintStream out;
    private final Map<String, Double> cache = new TreeMap<>();
    private int measured;

    public AutoPlacer(Path cacheDir, OpImplementations implementations, PrintStream out) {
        this.cacheFile = cacheDir.resolve("autoplace.json");
        this.implementations = implementations;
        this.out = out;
        load();
    }

    /** This process's cache root ({@link dev.offload.config.OffloadSettings#cache}). */
    public static Path defaultCache() { return dev.offload.config.OffloadSettings.current().cache().root(); }

    /** How many measurements the last {@link #plan} had to take (0 when everything came from the cache). */
    public int measuredCount() { return measured; }

    public ExecutionPlan plan(Graph graph, DevicePool pool) {
        measured = 0;
        List<ComputeDevice> devices = new ArrayList<>();
        devices.add(JavaDevice.INSTANCE);
        devices.addAll(pool.allOpenCl());
        List<OpKind> kinds = graph.opKinds();
        // Measured time per kind and device for the kind's representative node (NaN: cannot run there).
        Map<OpKind, Node> representative = new LinkedHashMap<>();
        for (Node n : graph.nodes()) representative.putIfAbsent(n.kind(), n);
        double[][] kindNs = new double[kinds.size()][devices.size()];
        for (int k = 0; k < kinds.size(); k++) {
            for (int d = 0; d < devices.size(); d++) kindNs[k][d] = measure(graph, representative.get(kinds.get(k)), devices.get(d));
        }
        double[] bytesPerNs = new double[devices.size()];
        for (int d = 0; d < devices.size(); d++) bytesPerNs[d] = bandwidth(devices.get(d));
        save();

        int[] best = search(graph, kinds, representative, kindNs, bytesPerNs, devices.size());
        Map<String, ComputeDevice> placement = new LinkedHashMap<>();
        for (Node n : graph.nodes()) placement.put(n.name(), devices.get(best[kinds.indexOf(n.kind())]));
        out.println("auto placement (measured per op kind, ms per node; " + (measured == 0 ? "all from cache " : measured + " new measurements, cache ") + cacheFile + "):");
        for (int k = 0; k < kinds.size(); k++) {
            StringBuilder sb = new StringBuilder(String.format("  %-" + OpKind.KEY_WIDTH + "s", kinds.get(k)));
            for (int d = 0; d < devices.size(); d++) {
                double ns = kindNs[k][d];
                sb.append(String.format("  %s %s%s", devices.get(d).spec(), Double.isNaN(ns) ? "n/a" : String.format("%.3f", ns / 1e6),
                        best[k] == d ? " <" : "  "));
            }
            out.println(sb);
        }
        return new ExecutionPlan(graph, placement);
    }

    /** Exhaustive over kind -> device assignments when small enough, else greedy per kind, then costed with transfers. */
    private int[] search(Graph graph, List<OpKind> kinds, Map<OpKind, Node> rep, double[][] kindNs, double[] bytesPerNs, int nd) {
        int nk = kinds.size();
        int[] current = new int[nk], best = new int[nk];
        for (int k = 0; k < nk; k++) {
            int arg = 0;
            for (int d = 0; d < nd; d++) if (!Double.isNaN(kindNs[k][d]) && (Double.isNaN(kindNs[k][arg]) || kindNs[k][d] < kindNs[k][arg])) arg = d;
            best[k] = arg;
        }
        double bestCost = cost(graph, kinds, rep, kindNs, bytesPerNs, best);
        double combos = Math.pow(nd, nk);
        if (combos > 200_000) return best;
        for (long c = 0; c < (long) combos; c++) {
            long rest = c;
            for (int k = 0; k < nk; k++) { current[k] = (int) (rest % nd); rest /= nd; }
            double cost = cost(graph, kinds, rep, kindNs, bytesPerNs, current);
            if (cost < bestCost) { bestCost = cost; best = current.clone(); }
        }
        return best;
    }

    private static double cost(Graph graph, List<OpKind> kinds, Map<OpKind, Node> rep, double[][] kindNs, double[] bytesPerNs, int[] assign) {
        Map<String, Integer> where = new HashMap<>();
        for (var in : graph.inputs()) where.put(in.name(), 0);   // graph inputs start on the host (java = index 0)
        double total = 0;
        for (Node n : graph.nodes()) {
            int k = kinds.indexOf(n.kind()), d = assign[k];
            double ns = kindNs[k][d];
            if (Double.isNaN(ns)) return Double.POSITIVE_INFINITY;
            long repOps = graph.cost(rep.get(n.kind())).operations(), ops = graph.cost(n).operations();
            total += repOps > 0 ? ns * ops / repOps : ns;
            for (String in : n.inputs()) total += transfer(graph, in, where.get(in), d, bytesPerNs);
            for (String o : n.outputs()) where.put(o, d);
        }
        for (var o : graph.outputs()) total += transfer(graph, o.name(), where.get(o.name()), 0, bytesPerNs);
        return total;
    }

    private static double transfer(Graph graph, String tensor, int from, int to, double[] bytesPerNs) {
        if (from == to) return 0;
        long bytes = graph.tensor(tensor).type().bytes();
        double ns = 0;
        if (from != 0) ns += TRANSFER_LATENCY_NS + bytes / bytesPerNs[from];
        if (to != 0) ns += TRANSFER_LATENCY_NS + bytes / bytesPerNs[to];
        return ns;
    }

    private static String deviceKey(ComputeDevice d) {
        if (d instanceof OpenClDevice cl) return cl.device().stableId() + "|" + cl.info().driverVersion();
        return "java|" + Runtime.version().feature() + "|" + Runtime.getRuntime().availableProcessors() + "cpu";
    }

    /** Nanoseconds one run of the node takes on the device (min of 2 after a warmup), or NaN when it cannot run there. */
    private double measure(Graph graph, Node node, ComputeDevice device) {
        String key = deviceKey(device) + "|" + node.opKind() + "|" + graph.inputTypes(node);
        Double cached = cache.get(key);
        if (cached != null) return cached;
        double ns;
        if (implementations.find(node.op(), Backend.of(device)).isEmpty()) {
            ns = Double.NaN;
        } else {
            Graph single = single(graph, node);
            Map<String, HostTensor> inputs = inputsFor(single, node);
            ExecutionPlan plan = new ExecutionPlan(single, Map.of(node.name(), device));
            try (GraphRuntime rt = new GraphRuntime(plan, implementations, true)) {
                rt.run(inputs);
                ns = Double.POSITIVE_INFINITY;
                for (int i = 0; i < 2; i++) {
                    double t = 0;
                    for (OpSample s : rt.run(inputs).samples()) if (!s.isTransfer()) t += s.deviceNs();
                    ns = Math.min(ns, t);
                }
            } catch (GraphRuntime.FallbackRefused | dev.offload.cl.ClException e) {
                log.warn("auto placement: {} cannot run on {}: {}", node.opKind(), device.spec(), e.getMessage());
                ns = Double.NaN;
            }
            measured++;
            log.info("auto placement: {} on {}: {}", node.opKind(), device.spec(), Double.isNaN(ns) ? "n/a" : String.format("%.3f ms", ns / 1e6));
        }
        cache.put(key, ns);
        return ns;
    }

    /** Host <-> device bytes per nanosecond (4 MB each way), or infinity for java (no transfer). */
    private double bandwidth(ComputeDevice device) {
        if (!(device instanceof OpenClDevice cl)) return Double.POSITIVE_INFINITY;
        String key = deviceKey(device) + "|transfer";
        Double cached = cache.get(key);
        if (cached != null) return cached;
        int n = 1 << 20;
        float[] data = new float[n];
        long t0 = System.nanoTime();
        try (var b = cl.upload(data)) {
            cl.readFloats(b, n);
        }
        double bpn = 2.0 * 4 * n / (System.nanoTime() - t0);
        measured++;
        cache.put(key, bpn);
        return bpn;
    }

    /** A graph of just this node, its inputs as graph inputs. */
    private static Graph single(Graph graph, Node node) {
        GraphBuilder b = new GraphBuilder("measure-" + node.opKind());
        for (String in : node.inputs()) if (!containsInput(b, in)) b.input(in, graph.tensor(in).type());
        b.layer(node.layer());
        List<String> outs = b.add(node.name(), node.op(), node.inputs().toArray(String[]::new));
        for (String o : outs) b.output(o);
        return b.build();
    }

    private static boolean containsInput(GraphBuilder b, String name) {
        try { b.type(name); return true; } catch (IllegalArgumentException e) { return false; }
    }

    /** Random inputs shaped for the node: ids within the vocabulary, lengths = the full sequence, zero points 0. */
    private static Map<String, HostTensor> inputsFor(Graph single, Node node) {
        SplittableRandom r = new SplittableRandom(7);
        Map<String, HostTensor> in = new LinkedHashMap<>();
        for (var def : single.inputs()) {
            TensorType t = def.type();
            int n = (int) t.elements();
            HostTensor h = switch (t.dtype()) {
                case FLOAT32 -> {
                    float[] f = new float[n];
                    for (int i = 0; i < n; i++) f[i] = (float) r.nextGaussian();
                    yield HostTensor.of(t, f);
                }
                case INT32 -> {
                    int[] v = new int[n];
                    int fill = switch (node.op()) {
                        case Attention a -> single.tensor(node.inputs().get(1)).type().dim(1);
                        case MeanPool p -> single.tensor(node.inputs().getFirst()).type().dim(1);
                        default -> 0;
                    };
                    for (int i = 0; i < n; i++) v[i] = node.op() instanceof Embedding e ? r.nextInt(e.vocab()) : fill;
                    yield HostTensor.of(t, v);
                }
                default -> {
                    byte[] b = new byte[n];
                    for (int i = 0; i < n; i++) b[i] = (byte) r.nextInt(-127, 128);
                    yield HostTensor.of(t, b);
                }
            };
            in.put(def.name(), h);
        }
        return in;
    }

    private void load() {
        if (!Files.isRegularFile(cacheFile)) return;
        try {
            var root = MAPPER.readTree(cacheFile.toFile());
            root.path("entries").fields().forEachRemaining(e -> cache.put(e.getKey(), e.getValue().isNumber() ? e.getValue().asDouble() : Double.NaN));
        } catch (IOException e) {
            log.warn("ignoring unreadable auto placement cache {}: {}", cacheFile, e.getMessage());
        }
    }

    private void save() {
        try {
            Files.createDirectories(cacheFile.getParent());
            ObjectNode root = MAPPER.createObjectNode();
            root.put("schema", "offload-autoplace/1");
            root.put("comment", "ns per run of one node of an op kind on a device (null: cannot run there); |transfer = bytes per ns");
            ObjectNode entries = root.putObject("entries");
            cache.forEach((k, v) -> { if (v.isNaN()) entries.putNull(k); else entries.put(k, v); });
            dev.offload.io.AtomicFile.write(cacheFile, out -> MAPPER.writerWithDefaultPrettyPrinter().writeValue(out, root));
        } catch (IOException | dev.offload.io.OutputFileException e) {
            log.warn("cannot write the auto placement cache {}: {}", cacheFile, e.getMessage());
        }
    }
}
