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
    /** Record-once-and-replay (see {@link #replayLaunches}); the recording is used by one run at a time. */
    private volatile boolean replayLaunches;
    private final java.util.concurrent.locks.ReentrantLock replaying = new java.util.concurrent.locks.ReentrantLock();
    private volatile Recording recording;
    private volatile String notRecorded = "replay is off";

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

    /**
     * Records the first run's launches on the device into command buffers (cl_khr_command_buffer) and replays them for
     * every later run: the host writes the inputs, enqueues each recorded segment as one command, runs the nodes that
     * cannot be recorded (causal attention under a KV cache) as usual, and reads the outputs. Only for a plan on one
     * OpenCL device that can record ({@link dev.offload.cl.Device#commandBuffersUnsupported}); otherwise, and for
     * micro-batches or a run while another replays, runs are plain. The results are the same bits. A replayed run's
     * profile has one sample per segment ({@code replay:<first>..<last>}, kind {@code replay}) instead of one per
     * node, so leave it off where per-node profiles are wanted.
     */
    public GraphRuntime replayLaunches(boolean on) {
        this.replayLaunches = on;
        if (!on) notRecorded = "replay is off";
        return this;
    }

    /** What replay does for this runtime: the recording's size, or why runs are plain. */
    public String replayStatus() {
        Recording r = recording;
        if (r != null) return "replaying " + r.recordedCommands() + " recorded launches in " + r.segments() + " segment(s), "
                + r.plainNodes() + " node(s) enqueued plainly, on " + r.device.spec();
        return "plain: " + notRecorded;
    }

    /** Whether runs replay a recording now. */
    public boolean replays() { return recording != null; }

    /** The device a single-request run would record on, or null (and why not, in {@link #notRecorded}). */
    private OpenClDevice recordingDevice() {
        if (!replayLaunches) return null;
        if (plan.devices().size() != 1) {
            notRecorded = "the plan uses " + plan.devices().size() + " devices";
            return null;
        }
        if (!(plan.devices().getFirst() instanceof OpenClDevice cl)) {
            notRecorded = "the plan runs on java";
            return null;
        }
        String why = cl.device().commandBuffersUnsupported();
        if (why != null) {
            notRecorded = why;
            return null;
        }
        if (!lost.isEmpty()) {
            notRecorded = "a device failed in this runtime";
            return null;
        }
        return cl;
    }

    /** Drops the recording if it is still {@code r} (its KV cache closed: the recorded launches read freed buffers). */
    private void dropIfRecording(Recording r) {
        replaying.lock();
        try {
            if (recording == r) {
                dropRecording();
                notRecorded = "the KV cache of the recorded decode steps closed; the next step records again";
            }
        } finally {
            replaying.unlock();
        }
    }

    private void dropRecording() {
        Recording r = recording;
        recording = null;
        if (r != null) r.close();
    }

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
            OpenClDevice cl = microBatches.size() == 1 ? recordingDevice() : null;
            if (cl != null && replaying.tryLock()) {
                try {
                    KvCache cache = caches == null ? null : caches.getFirst();
                    Recording r = recording;
                    if (r != null && r.withCache != (cache != null)) return runOnce(microBatches, caches, null);   // recorded with(out) a cache
                    if (r != null && r.cache != null && r.cache != cache) {
                        // The recorded decode steps read another request's KV cache: record anew once it has closed.
                        if (!r.cache.isClosed()) return runOnce(microBatches, caches, null);
                        dropRecording();
                        r = null;
                    }
                    if (r != null) return replay(r, microBatches.getFirst(), cache);   // a full cache: NoRoom, replay stays on
                    Result result = runOnce(microBatches, caches, new Recorder(cl, cache != null));
                    Recording made = recording;
                    if (made != null && made.cache != null) made.cache.onClose(() -> dropIfRecording(made));
                    return result;
                } catch (KvCache.NoRoom e) {
                    throw e;
                } catch (RuntimeException e) {
                    dropRecording();
                    notRecorded = "a recorded run failed: " + e;
                    replayLaunches = false;
                    throw e;
                } finally {
                    replaying.unlock();
                }
            }
            return runOnce(microBatches, caches, null);
        } catch (DeviceFailure f) {
            if (strict) throw new FallbackRefused("--strict: " + f.getMessage(), f.getCause());
            lost.add(f.device);
            // A KV cache was already extended by the failed attempt: running again would append twice.
            if (caches != null) throw new IllegalStateException(f.getMessage() + "; the request's KV cache is now inconsistent, start it again", f);
            log.warn("{}; running the request again without {}", f.getMessage(), f.device.spec());
            return runOnce(microBatches, null, null);
        } finally {
            active.decrementAndGet();
        }
    }

    /** A plain run, or (with {@code recorder}) the run that records. */
    private Result runOnce(List<Map<String, HostTensor>> microBatches, List<KvCache> caches, Recorder recorder) {
        long runStart = System.nanoTime();
        Set<OpenClDevice> touched = new LinkedHashSet<>();
        List<Residency> batches = new ArrayList<>();
        boolean finished = false;
        RunContext ctx = new RunContext(allocations);
        if (recorder != null) ctx.record(recorder);
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
            if (recorder != null) {
                Recording made = recorder.finish(ctx, allocations);
                if (made != null) {
                    ctx.record(null);
                    recording = made;
                } else {
                    notRecorded = recorder.gaveUp();
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
                Recorder rec = ctx.recorder();
                if (rec != null && rec.recording()) {
                    if (d != rec.device()) ctx.giveUpRecording("node " + n.name() + " runs on " + d.spec());
                    else rec.beginNode(n, runsPlain(n, res.cache), ctx);
                }
                ctx.attribute(n.name(), false);
                RunSamples.Mark mark = samples.begin();
                List<DeviceTensor> outs = p.run(ins, ctx);
                if (rec != null) rec.endNode();
                samples.node(mark, n, d, why, res.cache, res.microBatch);
                for (int j = 0; j < outs.size(); j++) {
                    res.of(n.outputs().get(j)).put(d, outs.get(j));
                    if (rec != null && outs.get(j) instanceof ClTensor c) rec.tensor(n.outputs().get(j), c);
                }
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
        if (ctx.recorder() != null && !"output".equals(layer)) {
            // A replay repeats input writes and output reads; any other crossing means part of the graph is elsewhere.
            boolean input = graph.inputs().stream().anyMatch(i -> i.name().equals(name));
            if (target instanceof JavaDevice || !input) ctx.giveUpRecording("tensor " + name + " crosses to " + target.spec());
        }
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
        ClTensor t = ctx.allocateForWrite(cl, type);
        MemorySegment seg = h.toSegment(ctx.arena());
        ctx.attribute("transfer:" + name, true);
        RunSamples.Mark mark = samples.begin();
        ctx.enqueue(cl, () -> cl.queue().write(t.buffer(), 0, seg));
        samples.transfer(mark, name, layer, cl, type.bytes(), res.microBatch);
        copies.put(target, t);
        if (ctx.recorder() != null && ctx.recorder().recording()) ctx.recorder().inputWritten(name, layer, t);
        return t;
    }

    /**
     * Nodes a replay runs as a plain run does: causal attention of a prompt chunk under a KV cache (its arguments and
     * copy offsets follow the cache's length). A decode step's attention is recorded: its kernels read the position
     * from the device ({@link KvCache#appendInKernel}).
     */
    private boolean runsPlain(Node n, KvCache cache) {
        return cache != null && n.op() instanceof dev.offload.graph.Attention a && a.causal()
                && !KvCache.isDecodeStep(graph.tensor(n.inputs().getFirst()).type());
    }

    /** A run on the recording: inputs written, segments enqueued, plain nodes run with their recorded buffers, outputs read. */
    private Result replay(Recording r, Map<String, HostTensor> inputs, KvCache cache) {
        long runStart = System.nanoTime();
        boolean finished = false;
        RunContext ctx = new RunContext(allocations);
        RunSamples samples = new RunSamples(graph, ctx, runStart);
        try {
            ctx.kvCache(cache);
            Residency res = new Residency(0, cache);
            inputs.forEach((name, t) -> res.of(name).put(JavaDevice.INSTANCE, t));
            r.tensors.forEach((name, t) -> res.of(name).put(r.device, t));
            if (r.cache != null) r.cache.replayDecodeStep(r.cacheNodes, r.device, ctx);
            for (Recording.Step step : r.steps) {
                switch (step) {
                    case Recording.Write w -> {
                        MemorySegment seg = inputs.get(w.tensor()).toSegment(ctx.arena());
                        ctx.attribute("transfer:" + w.tensor(), true);
                        RunSamples.Mark mark = samples.begin();
                        ctx.enqueue(r.device, () -> r.device.queue().write(w.target().buffer(), 0, seg));
                        samples.transfer(mark, w.tensor(), w.layer(), r.device, w.target().type().bytes(), 0);
                    }
                    case Recording.Segment g -> {
                        ctx.attribute(g.label(), false);
                        RunSamples.Mark mark = samples.begin();
                        ctx.enqueue(r.device, g.commands()::enqueue);
                        samples.segment(mark, g, r.device, cache);
                    }
                    case Recording.Reissue x -> {
                        ctx.attribute(x.node(), false);
                        ctx.enqueue(r.device, x.command());
                    }
                    case Recording.PlainNode p -> {
                        Node n = p.node();
                        OpImplementation.Prepared prep = prepared.get(n.name() + "@" + r.device.spec());
                        List<DeviceTensor> ins = new ArrayList<>();
                        for (String t : n.inputs()) ins.add(toDevice(t, r.device, n.layer(), ctx, res, samples));
                        ctx.attribute(n.name(), false);
                        RunSamples.Mark mark = samples.begin();
                        List<DeviceTensor> outs = prep.run(ins, ctx);
                        for (int j = 0; j < outs.size(); j++) {
                            ClTensor got = (ClTensor) outs.get(j), recorded = r.tensors.get(n.outputs().get(j));
                            if (got.buffer() != recorded.buffer()) {
                                long bytes = recorded.type().bytes();
                                ctx.enqueue(r.device, () -> r.device.queue().copy(got.buffer(), 0, recorded.buffer(), 0, bytes));
                                ctx.release(got);
                            }
                        }
                        samples.node(mark, n, r.device, null, cache, 0);
                    }
                }
            }
            if (r.cache != null) r.cache.advance(r.cacheNodes);
            Map<String, HostTensor> outputs = new LinkedHashMap<>();
            for (TensorDef o : graph.outputs()) outputs.put(o.name(), (HostTensor) toDevice(o.name(), JavaDevice.INSTANCE, "output", ctx, res, samples));
            List<OpSample> profile = samples.assemble();
            finished = true;
            return new Result(outputs, profile, runStart, System.nanoTime() - runStart);
        } finally {
            if (!finished) {
                try { r.device.queue().finish(); } catch (ClException e) { log.debug("finish on {} after a failure: {}", r.device.spec(), e.getMessage()); }
            }
            ctx.close();
        }
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
        dropRecording();
        allocations.close();
        if (ownsWeights) weights.close();
    }
}
