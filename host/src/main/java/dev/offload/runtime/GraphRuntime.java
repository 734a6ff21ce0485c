package dev.offload.runtime;

import dev.offload.cl.ClException;
import dev.offload.cl.Event;
import dev.offload.device.ComputeDevice;
import dev.offload.device.JavaDevice;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.TensorDef;
import dev.offload.profile.OpSample;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a graph on the devices of an {@link ExecutionPlan}.
 *
 * <p>A run walks the nodes in topological order on the calling thread. OpenCL ops only enqueue (each device has
 * one in-order queue, which orders a node after the nodes before it on that device), so the host runs ahead of
 * the devices and waits only where data must cross: a read to the host before a java op, or before an upload to
 * another device (contexts of different devices cannot share events). Weights come from the runtime's
 * {@link ResidentWeights}: uploaded once per device and shared with every runtime given the same store (the graphs
 * of one model at other shapes). Activations stay on their device between consecutive ops placed there, and each
 * buffer is released right after its last reader is enqueued.
 *
 * <p>Faults: a {@link ClException} while preparing or enqueueing a node (build failure, CL_OUT_OF_RESOURCES,
 * device lost) re-places the node on the next device of its chain, finally java; the node is remembered as broken
 * on that device, a WARN line is logged once and every profile sample carries the reason. A command that fails
 * asynchronously (seen when its event is waited for) takes its device out and the request is run again once.
 * With {@code strict} every fallback is an error instead.
 *
 * <p>Micro-batches ({@link #runMicroBatches}): the plan's nodes form stages, runs of consecutive nodes placed on one
 * device. Stage s of micro-batch i is enqueued at step i + s, and within a step earlier stages first, so micro-batch
 * i+1's first stage is on device A's queue before the host waits (in the transfer) for micro-batch i's hand-over
 * to device B: A works on i+1 while B works on i. Each micro-batch has its own tensors and KV cache.
 *
 * <p>KV cache ({@link #run(Map, KvCache)}): causal attention nodes append their keys and values to the request's
 * cache and attend over all cached tokens, so a graph built for one token runs a decode step.
 *
 * <p>Thread-safe: any number of threads may call {@link #run} at once. Each run owns its buffers, events and kernel
 * objects; the shared state (prepared weights, broken set) is in concurrent maps.
 *
 * <p>The profile samples of a run are assembled by {@link RunSamples}; this class schedules.
 */
public final class GraphRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GraphRuntime.class);

    /** The outputs of one run and what each op did. */
    public record Result(Map<String, HostTensor> outputs, List<OpSample> samples, long startNanoTime, long wallNs) {
        public HostTensor output(String name) {
            HostTensor t = outputs.get(name);
            if (t == null) throw new IllegalArgumentException("no output '" + name + "'; outputs: " + outputs.keySet());
            return t;
        }
    }

    /** An error the user asked for with --strict: a node would have run somewhere the plan did not put it. */
    public static final class FallbackRefused extends RuntimeException {
        FallbackRefused(String message, Throwable cause) { super(message, cause); }
    }

    private final Graph graph;
    private final ExecutionPlan plan;
    private final OpImplementations implementations;
    private final boolean strict;
    private final DeviceAllocations allocations = new DeviceAllocations();
    private final ResidentWeights weights;
    private final boolean ownsWeights;
    private final Map<String, OpImplementation.Prepared> prepared = new ConcurrentHashMap<>();
    /** Set by {@link #close}: a run after it would re-upload what close released, and leak it. */
    private volatile boolean closed;
    /** Runs in flight: close() refuses while any is (their kernels read the weights it would release). */
    private final java.util.concurrent.atomic.AtomicInteger active = new java.util.concurrent.atomic.AtomicInteger();
    private final Map<String, String> broken = new ConcurrentHashMap<>();
    private final Set<String> warned = ConcurrentHashMap.newKeySet();
    private final Set<ComputeDevice> lost = ConcurrentHashMap.newKeySet();

    /** A runtime with weights of its own on the devices (freed when it closes). */
    public GraphRuntime(ExecutionPlan plan, OpImplementations implementations, boolean strict) {
        this(plan, implementations, strict, new ResidentWeights(), true);
    }

    /**
     * A runtime whose nodes take their weights from {@code weights}, shared with the other runtimes given it; the
     * caller closes it after them.
     */
    public GraphRuntime(ExecutionPlan plan, OpImplementations implementations, boolean strict, ResidentWeights weights) {
        this(plan, implementations, strict, weights, false);
    }

    private GraphRuntime(ExecutionPlan plan, OpImplementations implementations, boolean strict, ResidentWeights weights, boolean ownsWeights) {
        this.graph = plan.graph();
        this.plan = plan;
        this.implementations = implementations;
        this.strict = strict;
        this.weights = weights;
        this.ownsWeights = ownsWeights;
    }

    public Graph graph() { return graph; }

    public ExecutionPlan plan() { return plan; }

    public DeviceAllocations allocations() { return allocations; }

    /** The device weights this runtime's nodes hold (shared with other runtimes when the creator passed a store). */
    public ResidentWeights weights() { return weights; }

    /** Runs the graph on one request's inputs (one host tensor per graph input). */
    public Result run(Map<String, HostTensor> inputs) { return run(inputs, null); }

    /** Runs one request whose causal attention reads and extends {@code cache} (null: no cache, a plain prefill). */
    public Result run(Map<String, HostTensor> inputs, KvCache cache) {
        return runMicroBatches(List.of(inputs), cache == null ? null : List.of(cache));
    }

    /**
     * Runs a batch split into micro-batches (each one this graph's inputs, see {@link MicroBatches#split}),
     * pipelined across the plan's devices; the outputs are concatenated along dimension 0 in micro-batch order.
     *
     * @param caches one KV cache per micro-batch, or null
     */
    public Result runMicroBatches(List<Map<String, HostTensor>> microBatches, List<KvCache> caches) {
        if (closed) throw new IllegalStateException("this graph runtime is closed: its weights are released");
        if (microBatches.isEmpty()) throw new IllegalArgumentException("no micro-batches to run");
        if (caches != null && caches.size() != microBatches.size()) {
            throw new IllegalArgumentException(microBatches.size() + " micro-batches but " + caches.size() + " KV caches; give one each");
        }
        microBatches.forEach(in -> GraphInputs.check(graph, in));
        active.incrementAndGet();
        try {
            if (closed) throw new IllegalStateException("this graph runtime is closed: its weights are released");
            return runOnce(microBatches, caches);
        } catch (DeviceFailure f) {
            if (strict) throw new FallbackRefused("--strict: " + f.getMessage(), f.getCause());
            lost.add(f.device);
            // A KV cache was already extended by the failed attempt: running again would append twice.
            if (caches != null) throw new IllegalStateException(f.getMessage() + "; the request's KV cache is now inconsistent, start it again", f);
            log.warn("{}; running the request again without {}", f.getMessage(), f.device.spec());
            return runOnce(microBatches, null);
        } finally {
            active.decrementAndGet();
        }
    }

    private Result runOnce(List<Map<String, HostTensor>> microBatches, List<KvCache> caches) {
        long runStart = System.nanoTime();
        Set<OpenClDevice> touched = new LinkedHashSet<>();
        List<Residency> batches = new ArrayList<>();
        boolean finished = false;
        RunContext ctx = new RunContext(allocations);
        RunSamples samples = new RunSamples(graph, ctx, runStart);
        try {
            for (int m = 0; m < microBatches.size(); m++) {
                Residency res = new Residency(m, caches == null ? null : caches.get(m));
                microBatches.get(m).forEach((name, t) -> res.of(name).put(JavaDevice.INSTANCE, t));
                batches.add(res);
            }
            List<int[]> stages = plan.stages();
            List<Node> nodes = graph.nodes();
            // Step t runs stage s of micro-batch t - s, earlier stages first (see the class comment).
            for (int t = 0; t < stages.size() + batches.size() - 1; t++) {
                for (int s = 0; s < stages.size(); s++) {
                    int m = t - s;
                    if (m < 0 || m >= batches.size()) continue;
                    Residency res = batches.get(m);
                    ctx.kvCache(res.cache);
                    for (int i = stages.get(s)[0]; i < stages.get(s)[1]; i++) {
                        Node n = nodes.get(i);
                        execute(n, ctx, res, samples, touched);
                        for (String in : n.inputs()) if (graph.lastUse(in) == i) release(in, res, ctx);
                        for (String out : n.outputs()) if (graph.lastUse(out) < 0) release(out, res, ctx);
                    }
                }
            }
            Map<String, HostTensor> outputs = new LinkedHashMap<>();
            for (TensorDef o : graph.outputs()) {
                List<HostTensor> parts = new ArrayList<>();
                for (Residency res : batches) parts.add((HostTensor) toDevice(o.name(), JavaDevice.INSTANCE, "output", ctx, res, samples));
                outputs.put(o.name(), MicroBatches.concat(parts));
            }
            List<OpSample> profile = samples.assemble();
            finished = true;
            return new Result(outputs, profile, runStart, System.nanoTime() - runStart);
        } finally {
            if (!finished) {
                // Commands may still read the run's native memory or buffers: let them end before freeing.
                for (OpenClDevice d : touched) {
                    try { d.queue().finish(); } catch (ClException e) { log.debug("finish on {} after a failure: {}", d.spec(), e.getMessage()); }
                }
            }
            ctx.close();
        }
    }

    private void execute(Node n, RunContext ctx, Residency res, RunSamples samples, Set<OpenClDevice> touched) {
        String why = null;
        for (ComputeDevice d : plan.chain(n)) {
            if (lost.contains(d)) {
                why = join(why, d.spec() + " failed earlier in this runtime");
                continue;
            }
            Optional<OpImplementation> impl = implementations.find(n.op(), Backend.of(d));
            if (impl.isEmpty()) {
                why = join(why, "no OpenCL kernel for " + n.opKind());
                if (strict) throw new FallbackRefused("--strict: node " + n.name() + " (" + n.opKind() + ") is placed on "
                        + d.spec() + " but offload has no OpenCL kernel for " + n.opKind() + "; place it on java or drop --strict", null);
                continue;
            }
            String key = n.name() + "@" + d.spec();
            String brokenReason = broken.get(key);
            if (brokenReason != null) {
                why = join(why, brokenReason);
                continue;
            }
            try {
                OpImplementation.Prepared p = prepared.computeIfAbsent(key, k -> impl.get().prepare(graph, n, d, weights));
                List<DeviceTensor> ins = new ArrayList<>();
                for (String t : n.inputs()) ins.add(toDevice(t, d, n.layer(), ctx, res, samples));
                if (d instanceof OpenClDevice cl) touched.add(cl);
                ctx.attribute(n.name(), false);
                RunSamples.Mark mark = samples.begin();
                List<DeviceTensor> outs = p.run(ins, ctx);
                samples.node(mark, n, d, why, res.cache, res.microBatch);
                for (int j = 0; j < outs.size(); j++) res.of(n.outputs().get(j)).put(d, outs.get(j));
                if (why != null && warned.add(key)) log.warn("node {} ({}) runs on {}: {}", n.name(), n.opKind(), d.spec(), why);
                return;
            } catch (ClException | OpImplementation.Unsupported e) {
                String reason = n.opKind() + " on " + d.spec() + (e instanceof OpImplementation.Unsupported ? " cannot run: " : " failed: ")
                        + e.getMessage().lines().findFirst().orElse("");
                if (strict) throw new FallbackRefused("--strict: node " + n.name() + ": " + reason, e);
                broken.put(key, reason);
                log.warn("node {}: {}; re-placing it on the next device", n.name(), reason);
                why = join(why, reason);
            }
        }
        throw new IllegalStateException("no device could run node " + n.name() + ": " + why);
    }

    private static String join(String a, String b) { return a == null ? b : a + "; " + b; }

    private void release(String tensor, Residency res, RunContext ctx) {
        Map<ComputeDevice, DeviceTensor> copies = res.copies.remove(tensor);
        if (copies == null) return;
        for (DeviceTensor t : copies.values()) if (t instanceof ClTensor c) ctx.release(c);
    }

    /** The tensor on {@code target}, copying it there through the host when it is not there yet. */
    private DeviceTensor toDevice(String name, ComputeDevice target, String layer, RunContext ctx, Residency res, RunSamples samples) {
        Map<ComputeDevice, DeviceTensor> copies = res.of(name);
        DeviceTensor here = copies.get(target);
        if (here != null) return here;
        if (copies.isEmpty()) throw new IllegalStateException("tensor " + name + " has no copy anywhere (released too early?)");
        var type = graph.tensor(name).type();
        if (target instanceof JavaDevice) {
            ClTensor src = (ClTensor) copies.values().iterator().next();
            MemorySegment seg = ctx.arena().allocate(type.bytes());
            ctx.attribute("transfer:" + name, true);
            RunSamples.Mark mark = samples.begin();
            Event e = ctx.enqueue(src.device(), () -> src.device().queue().read(src.buffer(), 0, seg));
            try {
                e.await();
            } catch (ClException ex) {
                throw new DeviceFailure(src.device(), ex);
            }
            HostTensor h = HostTensor.fromSegment(type, seg);
            samples.transfer(mark, name, layer, src.device(), type.bytes(), res.microBatch);
            copies.put(target, h);
            return h;
        }
        OpenClDevice cl = (OpenClDevice) target;
        HostTensor h = (HostTensor) toDevice(name, JavaDevice.INSTANCE, layer, ctx, res, samples);
        ClTensor t = ctx.allocate(cl, type);
        MemorySegment seg = h.toSegment(ctx.arena());
        ctx.attribute("transfer:" + name, true);
        RunSamples.Mark mark = samples.begin();
        ctx.enqueue(cl, () -> cl.queue().write(t.buffer(), 0, seg));
        samples.transfer(mark, name, layer, cl, type.bytes(), res.microBatch);
        copies.put(target, t);
        return t;
    }

    /** Releases this runtime's hold on its weights (freeing those no other runtime holds). Runs must have ended. */
    @Override
    public void close() {
        closed = true;
        int running = active.get();
        if (running > 0) throw new IllegalStateException("graph runtime closed while " + running + " run(s) are in flight; close it after they end");
        for (OpImplementation.Prepared p : prepared.values()) {
            try { p.close(); } catch (Exception e) { log.warn("closing prepared node: {}", e.toString()); }
        }
        prepared.clear();
        allocations.close();
        if (ownsWeights) weights.close();
    }
}
