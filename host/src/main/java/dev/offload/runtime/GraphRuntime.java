package dev.offload.runtime;

import dev.offload.cl.ClException;
import dev.offload.cl.Event;
import dev.offload.device.ComputeDevice;
import dev.offload.device.JavaDevice;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Attention;
import dev.offload.graph.Cost;
import dev.offload.graph.Embedding;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.TensorDef;
import dev.offload.graph.TensorType;
import dev.offload.profile.OpSample;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
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
 * another device (contexts of different devices cannot share events). Weights are uploaded once per (node,
 * device) and kept; activations stay on their device between consecutive ops placed there, and each buffer is
 * released right after its last reader is enqueued.
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
    private final Map<String, OpImplementation.Prepared> prepared = new ConcurrentHashMap<>();
    private final Map<String, String> broken = new ConcurrentHashMap<>();
    private final Set<String> warned = ConcurrentHashMap.newKeySet();
    private final Set<ComputeDevice> lost = ConcurrentHashMap.newKeySet();

    public GraphRuntime(ExecutionPlan plan, OpImplementations implementations, boolean strict) {
        this.graph = plan.graph();
        this.plan = plan;
        this.implementations = implementations;
        this.strict = strict;
    }

    public Graph graph() { return graph; }

    public ExecutionPlan plan() { return plan; }

    public DeviceAllocations allocations() { return allocations; }

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
        if (microBatches.isEmpty()) throw new IllegalArgumentException("no micro-batches to run");
        if (caches != null && caches.size() != microBatches.size()) {
            throw new IllegalArgumentException(microBatches.size() + " micro-batches but " + caches.size() + " KV caches; give one each");
        }
        microBatches.forEach(this::checkInputs);
        try {
            return runOnce(microBatches, caches);
        } catch (DeviceFailure f) {
            if (strict) throw new FallbackRefused("--strict: " + f.getMessage(), f.getCause());
            lost.add(f.device);
            // A KV cache was already extended by the failed attempt: running again would append twice.
            if (caches != null) throw new IllegalStateException(f.getMessage() + "; the request's KV cache is now inconsistent, start it again", f);
            log.warn("{}; running the request again without {}", f.getMessage(), f.device.spec());
            return runOnce(microBatches, null);
        }
    }

    /** A command failed on a device after it was enqueued: the device is unusable for this runtime. */
    private static final class DeviceFailure extends RuntimeException {
        final ComputeDevice device;

        DeviceFailure(ComputeDevice device, ClException cause) {
            super("a command on " + device.spec() + " failed: " + cause.getMessage(), cause);
            this.device = device;
        }
    }

    /** One node's or transfer's execution, before its events are read. */
    private record Exec(String node, String layer, String kind, ComputeDevice device, String fallback,
                        long hostBefore, long hostAfter, int firstCommand, int endCommand, Cost cost, int microBatch) {}

    /** Where each tensor of one micro-batch has copies during a run, and its KV cache. */
    private static final class Residency {
        final int microBatch;
        final KvCache cache;
        final Map<String, Map<ComputeDevice, DeviceTensor>> copies = new HashMap<>();

        Residency(int microBatch, KvCache cache) {
            this.microBatch = microBatch;
            this.cache = cache;
        }

        Map<ComputeDevice, DeviceTensor> of(String tensor) { return copies.computeIfAbsent(tensor, k -> new LinkedHashMap<>()); }
    }

    /** Index ranges [from, to) of consecutive nodes the plan puts on one device: the pipeline's stages. */
    private List<int[]> stages() {
        List<int[]> out = new ArrayList<>();
        List<Node> nodes = graph.nodes();
        int from = 0;
        for (int i = 1; i <= nodes.size(); i++) {
            if (i == nodes.size() || plan.deviceFor(nodes.get(i)) != plan.deviceFor(nodes.get(from))) {
                out.add(new int[] {from, i});
                from = i;
            }
        }
        return out;
    }

    private Result runOnce(List<Map<String, HostTensor>> microBatches, List<KvCache> caches) {
        long runStart = System.nanoTime();
        List<Exec> execs = new ArrayList<>();
        Set<OpenClDevice> touched = new LinkedHashSet<>();
        List<Residency> batches = new ArrayList<>();
        boolean finished = false;
        RunContext ctx = new RunContext(allocations);
        try {
            for (int m = 0; m < microBatches.size(); m++) {
                Residency res = new Residency(m, caches == null ? null : caches.get(m));
                microBatches.get(m).forEach((name, t) -> res.of(name).put(JavaDevice.INSTANCE, t));
                batches.add(res);
            }
            List<int[]> stages = stages();
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
                        execute(n, ctx, res, execs, touched);
                        for (String in : n.inputs()) if (graph.lastUse(in) == i) release(in, res, ctx);
                        for (String out : n.outputs()) if (graph.lastUse(out) < 0) release(out, res, ctx);
                    }
                }
            }
            Map<String, HostTensor> outputs = new LinkedHashMap<>();
            for (TensorDef o : graph.outputs()) {
                List<HostTensor> parts = new ArrayList<>();
                for (Residency res : batches) parts.add((HostTensor) toDevice(o.name(), JavaDevice.INSTANCE, "output", ctx, res, execs));
                outputs.put(o.name(), MicroBatches.concat(parts));
            }
            List<OpSample> samples = samples(ctx, execs, runStart);
            finished = true;
            return new Result(outputs, samples, runStart, System.nanoTime() - runStart);
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

    private void execute(Node n, RunContext ctx, Residency res, List<Exec> execs, Set<OpenClDevice> touched) {
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
                OpImplementation.Prepared p = prepared.computeIfAbsent(key, k -> impl.get().prepare(graph, n, d));
                List<DeviceTensor> ins = new ArrayList<>();
                for (String t : n.inputs()) ins.add(toDevice(t, d, n.layer(), ctx, res, execs));
                if (d instanceof OpenClDevice cl) touched.add(cl);
                ctx.attribute(n.name(), false);
                int first = ctx.commands().size();
                long before = System.nanoTime();
                List<DeviceTensor> outs = p.run(ins, ctx);
                long after = System.nanoTime();
                execs.add(new Exec(n.name(), n.layer(), n.opKind(), d, why, before, after, first, ctx.commands().size(), cost(n, res),
                        res.microBatch));
                for (int j = 0; j < outs.size(); j++) res.of(n.outputs().get(j)).put(d, outs.get(j));
                if (why != null && warned.add(key)) log.warn("node {} ({}) runs on {}: {}", n.name(), n.opKind(), d.spec(), why);
                return;
            } catch (ClException e) {
                String reason = n.opKind() + " on " + d.spec() + " failed: " + e.getMessage().lines().findFirst().orElse("");
                if (strict) throw new FallbackRefused("--strict: node " + n.name() + ": " + reason, e);
                broken.put(key, reason);
                log.warn("node {}: {}; re-placing it on the next device", n.name(), reason);
                why = join(why, reason);
            }
        }
        throw new IllegalStateException("no device could run node " + n.name() + ": " + why);
    }

    /** The node's cost; a causal attention under a KV cache reads all cached keys, not just this step's. */
    private Cost cost(Node n, Residency res) {
        if (res.cache == null || !(n.op() instanceof Attention a) || !a.causal()) return graph.cost(n);
        List<TensorType> in = new ArrayList<>(graph.inputTypes(n));
        TensorType k = in.get(1);
        TensorType all = TensorType.of(k.dtype(), k.dim(0), Math.max(1, res.cache.length(n.name())), k.last());
        in.set(1, all);
        in.set(2, all);
        return n.op().cost(in, graph.outputTypes(n));
    }

    private static String join(String a, String b) { return a == null ? b : a + "; " + b; }

    private void release(String tensor, Residency res, RunContext ctx) {
        Map<ComputeDevice, DeviceTensor> copies = res.copies.remove(tensor);
        if (copies == null) return;
        for (DeviceTensor t : copies.values()) if (t instanceof ClTensor c) ctx.release(c);
    }

    /** The tensor on {@code target}, copying it there through the host when it is not there yet. */
    private DeviceTensor toDevice(String name, ComputeDevice target, String layer, RunContext ctx, Residency res, List<Exec> execs) {
        Map<ComputeDevice, DeviceTensor> copies = res.of(name);
        DeviceTensor here = copies.get(target);
        if (here != null) return here;
        if (copies.isEmpty()) throw new IllegalStateException("tensor " + name + " has no copy anywhere (released too early?)");
        var type = graph.tensor(name).type();
        if (target instanceof JavaDevice) {
            ClTensor src = (ClTensor) copies.values().iterator().next();
            MemorySegment seg = ctx.arena().allocate(type.bytes());
            ctx.attribute("transfer:" + name, true);
            int first = ctx.commands().size();
            long before = System.nanoTime();
            Event e = ctx.enqueue(src.device(), () -> src.device().queue().read(src.buffer(), 0, seg));
            try {
                e.await();
            } catch (ClException ex) {
                throw new DeviceFailure(src.device(), ex);
            }
            HostTensor h = HostTensor.fromSegment(type, seg);
            execs.add(new Exec("transfer:" + name, layer, "transfer", src.device(), null, before, System.nanoTime(), first,
                    ctx.commands().size(), new Cost(0, type.bytes(), type.bytes()), res.microBatch));
            copies.put(target, h);
            return h;
        }
        OpenClDevice cl = (OpenClDevice) target;
        HostTensor h = (HostTensor) toDevice(name, JavaDevice.INSTANCE, layer, ctx, res, execs);
        ClTensor t = ctx.allocate(cl, type);
        MemorySegment seg = h.toSegment(ctx.arena());
        ctx.attribute("transfer:" + name, true);
        int first = ctx.commands().size();
        long before = System.nanoTime();
        ctx.enqueue(cl, () -> cl.queue().write(t.buffer(), 0, seg));
        execs.add(new Exec("transfer:" + name, layer, "transfer", cl, null, before, System.nanoTime(), first,
                ctx.commands().size(), new Cost(0, type.bytes(), type.bytes()), res.microBatch));
        copies.put(target, t);
        return t;
    }

    /** Waits for every command, reads its profiling times and turns the run's executions into samples. */
    private List<OpSample> samples(RunContext ctx, List<Exec> execs, long runStart) {
        List<RunContext.Command> cmds = ctx.commands();
        Event.Times[] times = new Event.Times[cmds.size()];
        // Device clocks are not the host clock: per device, the shift that puts every command's "queued" no earlier
        // than the host time just before it was enqueued (the tightest such shift).
        Map<OpenClDevice, Long> shift = new HashMap<>();
        for (int i = 0; i < cmds.size(); i++) {
            RunContext.Command c = cmds.get(i);
            try {
                times[i] = c.times();
            } catch (ClException e) {
                throw new DeviceFailure(c.device(), e);
            }
            long s = c.hostBeforeNs() - times[i].queued();
            shift.merge(c.device(), s, Math::max);
        }
        List<OpSample> out = new ArrayList<>(execs.size());
        for (Exec e : execs) {
            long start, end, queueWait = 0, deviceNs = 0, hostNs;
            String track;
            if (e.device() instanceof OpenClDevice cl && e.endCommand() > e.firstCommand()) {
                long off = shift.get(cl) - runStart;
                start = Long.MAX_VALUE;
                end = Long.MIN_VALUE;
                for (int i = e.firstCommand(); i < e.endCommand(); i++) {
                    start = Math.min(start, times[i].start());
                    end = Math.max(end, times[i].end());
                    deviceNs += times[i].deviceNanos();
                }
                queueWait = times[e.firstCommand()].queueWaitNanos();
                start += off;
                end += off;
                hostNs = e.hostAfter() - e.hostBefore();
                track = cl.spec() + " queue";
            } else {
                start = e.hostBefore() - runStart;
                end = e.hostAfter() - runStart;
                deviceNs = end - start;
                hostNs = 0;
                track = e.device().spec();
            }
            out.add(new OpSample(e.node(), e.layer(), e.kind(), e.device().spec(), track, e.fallback(), start, end,
                    queueWait, deviceNs, hostNs, e.cost().bytesRead(), e.cost().bytesWritten(), e.cost().operations(), e.microBatch()));
        }
        return out;
    }

    private void checkInputs(Map<String, HostTensor> inputs) {
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

    /** Releases the uploaded weights. Runs must have ended. */
    @Override
    public void close() {
        for (OpImplementation.Prepared p : prepared.values()) {
            try { p.close(); } catch (Exception e) { log.warn("closing prepared node: {}", e.toString()); }
        }
        prepared.clear();
        allocations.close();
    }
}
