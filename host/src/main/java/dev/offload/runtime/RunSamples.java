package dev.offload.runtime;

import dev.offload.cl.ClException;
import dev.offload.cl.Event;
import dev.offload.device.ComputeDevice;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Attention;
import dev.offload.graph.Cost;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.TensorType;
import dev.offload.profile.OpSample;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The profile of one run: what each node and transfer did, recorded while the run enqueues (host clock, the range of
 * commands it enqueued), and assembled into {@link OpSample}s once the run's commands are done, from their OpenCL
 * profiling times put on the host clock. Used by the one thread that runs the request.
 */
final class RunSamples {
    /** Where an execution began: the host clock just before it and the index of its first command in the run. */
    record Mark(long hostBefore, int firstCommand) {}

    /** One node's or transfer's execution, before its events are read. */
    private record Exec(String node, String layer, String kind, ComputeDevice device, String fallback,
                        long hostBefore, long hostAfter, int firstCommand, int endCommand, Cost cost, int microBatch) {}

    private final Graph graph;
    private final RunContext ctx;
    private final long runStart;
    private final List<Exec> execs = new ArrayList<>();

    RunSamples(Graph graph, RunContext ctx, long runStart) {
        this.graph = graph;
        this.ctx = ctx;
        this.runStart = runStart;
    }

    /** Call just before an execution enqueues its first command. */
    Mark begin() {
        int first = ctx.commands().size();
        return new Mark(System.nanoTime(), first);
    }

    /** Node {@code n} ran on {@code device} since {@code m}; {@code fallback} says why not where the plan put it, or null. */
    void node(Mark m, Node n, ComputeDevice device, String fallback, KvCache cache, int microBatch) {
        long after = System.nanoTime();
        execs.add(new Exec(n.name(), n.layer(), n.opKind(), device, fallback, m.hostBefore(), after, m.firstCommand(),
                ctx.commands().size(), cost(n, cache), microBatch));
    }

    /** A replayed segment of recorded nodes ran as one command since {@code m}; its cost is its nodes'. */
    void segment(Mark m, Recording.Segment segment, ComputeDevice device, KvCache cache) {
        long after = System.nanoTime();
        Cost cost = Cost.NONE;
        for (Node n : segment.nodes()) cost = cost.plus(cost(n, cache));
        execs.add(new Exec(segment.label(), segment.nodes().getFirst().layer(), "replay", device, null, m.hostBefore(), after,
                m.firstCommand(), ctx.commands().size(), cost, 0));
    }

    /** Tensor {@code tensor} ({@code bytes}) crossed between the host and {@code device} since {@code m}. */
    void transfer(Mark m, String tensor, String layer, ComputeDevice device, long bytes, int microBatch) {
        long after = System.nanoTime();
        execs.add(new Exec("transfer:" + tensor, layer, "transfer", device, null, m.hostBefore(), after, m.firstCommand(),
                ctx.commands().size(), new Cost(0, bytes, bytes), microBatch));
    }

    /** The node's cost; a causal attention under a KV cache reads all cached keys, not just this step's. */
    private Cost cost(Node n, KvCache cache) {
        if (cache == null || !(n.op() instanceof Attention a) || !a.causal()) return graph.cost(n);
        List<TensorType> in = new ArrayList<>(graph.inputTypes(n));
        TensorType k = in.get(1);
        TensorType all = TensorType.of(k.dtype(), k.dim(0), Math.max(1, cache.length(n.name())), k.last());
        in.set(1, all);
        in.set(2, all);
        return n.op().cost(in, graph.outputTypes(n));
    }

    /** Waits for every command, reads its profiling times and turns the run's executions into samples. */
    List<OpSample> assemble() {
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
}
