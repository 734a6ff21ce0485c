package dev.offload.runtime;

import dev.offload.graph.Graph;
import java.io.PrintStream;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The runtimes of one model's graphs, one per input shape: graphs have static shapes, so a model run at several
 * shapes (encoder batches, a decoder's prefill lengths and its one-token step) gets a graph and a {@link GraphRuntime}
 * per shape, built on first use and kept while recently used. All of them share one device copy of the weights
 * ({@link ResidentWeights}). Keys listed as pinned are never evicted (a decoder's step graph).
 *
 * <p>With {@link #replayPinned}, the pinned shapes' runtimes record their launches once and replay them
 * ({@link GraphRuntime#replayLaunches}): those run again and again (a decode step per token), where the per-command
 * host cost is most of the time; with {@link #replayEvery}, every shape's runtime does (an encoder's batch shapes, each
 * run many times). {@value #REPLAY_ENV}{@code =0} turns both off (to compare).
 *
 * <p>Thread-safe. A runtime evicted while another thread runs on it closes when that run ends
 * ({@link GraphRuntime#close} needs its runs to have ended).
 *
 * @param <K> what names a shape (a record)
 */
public final class ShapeRuntimes<K> implements AutoCloseable {
    private final Function<K, Graph> graphs;
    private final DevicePool pool;
    private final PlacementSpec placement;
    private final OpImplementations implementations;
    private final boolean strict;
    private final PrintStream log;
    private final int kept;
    private final java.util.function.Predicate<K> pinned;
    private final ResidentWeights weights = new ResidentWeights();
    private final LinkedHashMap<K, Shape> runtimes = new LinkedHashMap<>(8, 0.75f, true);
    private ExecutionPlan lastPlan;
    private boolean replayPinned;
    private boolean replayEvery;

    /** {@code OFFLOAD_REPLAY=0} (or {@code off}, {@code false}) keeps every run plain. */
    public static final String REPLAY_ENV = "OFFLOAD_REPLAY";

    /** Whether the environment allows record-and-replay (it does unless {@value #REPLAY_ENV} says 0, off or false). */
    public static boolean replayAllowed() {
        String v = System.getenv(REPLAY_ENV);
        return v == null || !(v.equals("0") || v.equalsIgnoreCase("off") || v.equalsIgnoreCase("false"));
    }

    /**
     * @param graphs builds the graph of a shape
     * @param kept   unpinned shapes kept (the least recently used beyond that is closed)
     * @param pinned shapes never evicted
     * @param log    where auto placement reports its measurements (null: quiet)
     */
    public ShapeRuntimes(Function<K, Graph> graphs, DevicePool pool, PlacementSpec placement, OpImplementations implementations,
                         boolean strict, int kept, java.util.function.Predicate<K> pinned, PrintStream log) {
        this.graphs = graphs;
        this.pool = pool;
        this.placement = placement;
        this.implementations = implementations;
        this.strict = strict;
        this.kept = kept;
        this.pinned = pinned;
        this.log = log;
    }

    /** A shape's runtime and the runs in flight on it. */
    private static final class Shape {
        final GraphRuntime runtime;
        int running;
        boolean evicted;

        Shape(GraphRuntime runtime) { this.runtime = runtime; }
    }

    /** Pinned shapes built from now on record and replay their launches (when the environment allows it). */
    public synchronized ShapeRuntimes<K> replayPinned(boolean on) {
        this.replayPinned = on && replayAllowed();
        return this;
    }

    /** Every shape built from now on records and replays its launches (when the environment allows it). */
    public synchronized ShapeRuntimes<K> replayEvery(boolean on) {
        this.replayEvery = on && replayAllowed();
        return this;
    }

    /** What replay does for a shape's runtime ({@link GraphRuntime#replayStatus}). */
    public String replayStatus(K key) { return shape(key).runtime.replayStatus(); }

    /** The plan of a shape (building its runtime if needed). */
    public ExecutionPlan plan(K key) { return shape(key).runtime.plan(); }

    /** The plan of the shape built last, or null. */
    public synchronized ExecutionPlan lastPlan() { return lastPlan; }

    /** The weights on the devices, shared by every shape's runtime. */
    public ResidentWeights weights() { return weights; }

    private synchronized Shape shape(K key) {
        Shape shape = runtimes.get(key);
        if (shape != null) return shape;
        Graph g = graphs.apply(key);
        ExecutionPlan plan = placement.plan(g, pool, implementations, log);
        shape = new Shape(new GraphRuntime(plan, implementations, strict, weights).replayLaunches(replayEvery || replayPinned && pinned.test(key)));
        runtimes.put(key, shape);
        lastPlan = plan;
        long unpinned = runtimes.keySet().stream().filter(k -> !pinned.test(k)).count();
        for (Iterator<Map.Entry<K, Shape>> it = runtimes.entrySet().iterator(); unpinned > kept && it.hasNext(); ) {
            Map.Entry<K, Shape> eldest = it.next();
            if (pinned.test(eldest.getKey()) || eldest.getValue() == shape) continue;
            it.remove();
            unpinned--;
            Shape old = eldest.getValue();
            old.evicted = true;
            if (old.running == 0) old.runtime.close();
        }
        return shape;
    }

    /** Runs on a shape's runtime (with {@code cache} for causal attention, or null); it cannot be closed under the run. */
    public GraphRuntime.Result run(K key, Map<String, HostTensor> inputs, KvCache cache) {
        Shape shape;
        synchronized (this) {
            shape = shape(key);
            shape.running++;
        }
        try {
            return shape.runtime.run(inputs, cache);
        } finally {
            synchronized (this) {
                if (--shape.running == 0 && shape.evicted) shape.runtime.close();
            }
        }
    }

    @Override
    public synchronized void close() {
        for (Shape shape : runtimes.values()) shape.runtime.close();
        runtimes.clear();
        weights.close();
    }
}
