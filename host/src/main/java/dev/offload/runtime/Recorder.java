package dev.offload.runtime;

import dev.offload.cl.Buffer;
import dev.offload.cl.CommandBuffer;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Node;
import dev.offload.graph.TensorType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A run being recorded into a {@link Recording}: the run goes on as usual, but the launches of recordable nodes go
 * into a command buffer instead of the queue. A segment (the open command buffer) is finished and enqueued when
 * something must run outside it: a plain node, an out-of-band command, the end of the run, so the recorded run
 * computes its own result in the right order on the one in-order queue.
 *
 * <p>Every buffer allocated while recording belongs to the recording, so the recorded commands' buffers hold the same
 * tensors on every replay. A tensor released during the recorded run gives its buffer back to the recording, and a
 * later tensor of the same byte size reuses it, as a plain run reuses released buffers: the recording holds one
 * run's working set, not every activation of the run (a 32 x 128-token encoder's would be hundreds of MiB). That is
 * safe for the same reason as in a plain run: one in-order queue runs the segments, and a replay enqueues the same
 * commands in the same order, so the next writer of a reused buffer always follows the last reader of its previous
 * tensor. When the run does something a replay could
 * not repeat (a transfer other than an input write or an output read, a node off the device) the recorder gives up:
 * it enqueues what it has, and the run goes on plainly; its buffers are freed with the run.
 */
final class Recorder {
    private final OpenClDevice device;
    private final List<Recording.Step> steps = new ArrayList<>();
    private final Map<String, ClTensor> tensors = new LinkedHashMap<>();
    private final List<ClTensor> owned = new ArrayList<>();
    private final Set<ClTensor> ownedSet = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Buffers of the recording whose tensors were released, by size in bytes: later tensors of that size reuse them. */
    private final Map<Long, ArrayDeque<Buffer>> released = new HashMap<>();
    private CommandBuffer open;
    private List<Node> openNodes = new ArrayList<>();
    private Node node;
    private boolean nodeIsPlain;
    private String gaveUp;

    private final boolean withCache;

    /** @param withCache whether the recorded run has a KV cache (a replay must have one too, or none) */
    Recorder(OpenClDevice device, boolean withCache) {
        this.device = device;
        this.withCache = withCache;
    }

    OpenClDevice device() { return device; }

    /** Why the recorder gave up, or null while it records. */
    String gaveUp() { return gaveUp; }

    boolean recording() { return gaveUp == null; }

    /** Whether launches now go into the command buffer (a recordable node is running). */
    boolean recordsLaunches() { return gaveUp == null && node != null && !nodeIsPlain; }

    /** A node begins; a plain one runs outside the recording (what it has so far is enqueued first). */
    void beginNode(Node n, boolean plain, RunContext ctx) {
        if (gaveUp != null) return;
        node = n;
        nodeIsPlain = plain;
        if (plain) closeSegment(ctx);
    }

    void endNode() {
        if (gaveUp != null || node == null) return;
        if (nodeIsPlain) steps.add(new Recording.PlainNode(node));
        node = null;
    }

    /** A buffer the run allocated: the recording's from now on. */
    void own(ClTensor t) {
        owned.add(t);
        ownedSet.add(t);
    }

    boolean owns(ClTensor t) { return ownedSet.contains(t); }

    /**
     * A tensor of {@code type} in a buffer of the recording that an earlier, released tensor of the same byte size
     * used, or null when there is none (the run then allocates a new buffer and {@link #own}s it).
     */
    ClTensor reuse(OpenClDevice on, TensorType type) {
        if (gaveUp != null || on != device) return null;
        ArrayDeque<Buffer> free = released.get(Math.max(type.bytes(), 1));
        Buffer b = free == null ? null : free.pollFirst();
        if (b == null) return null;
        ClTensor t = new ClTensor(type, b, device);
        ownedSet.add(t);   // not in owned: the buffer is there once, under the tensor that first had it
        return t;
    }

    /** The run released a tensor of the recording after its last reader: its buffer may hold a later tensor. */
    void released(ClTensor t) {
        if (gaveUp != null) return;
        released.computeIfAbsent(t.buffer().size(), size -> new ArrayDeque<>()).addFirst(t.buffer());
    }

    /** Tensor {@code name} lives in {@code t} on the device. */
    void tensor(String name, ClTensor t) { if (gaveUp == null) tensors.put(name, t); }

    /** Graph input {@code name} was written into {@code t} (outside the command buffers, in queue order). */
    void inputWritten(String name, String layer, ClTensor t) {
        if (gaveUp != null) return;
        steps.add(new Recording.Write(name, layer, t));
        tensors.put(name, t);
    }

    void kernel(Kernel kernel, long[] global, long[] local) {
        if (open == null) open = CommandBuffer.record(device.queue());
        if (openNodes.isEmpty() || openNodes.getLast() != node) openNodes.add(node);   // the nodes with launches in this segment
        open.kernel(kernel, global, device.kernelStyle().local(global, local));
    }

    /** The KV cache whose buffers the recorded decode-step launches read (null: none), and the nodes that extend it. */
    private KvCache cache;
    private final List<String> cacheNodes = new ArrayList<>();

    /** A decode-step node extends {@code c} in recorded kernels: the recording replays with this cache only; null, or why it cannot. */
    String decodeStepAppended(KvCache c, String nodeName) {
        if (gaveUp != null) return null;
        if (cache != null && cache != c) return "two KV caches in one recorded run";
        cache = c;
        cacheNodes.add(nodeName);
        return null;
    }

    /** The token counts of a decode step were written on the device (a replay writes its own step's); null, or why it cannot record. */
    String stepLengthsWritten(OpenClDevice on) {
        if (gaveUp != null) return null;
        return on != device ? "a KV cache's token counts are written on " + on.spec() : null;
    }

    /** A recordable node enqueues a command itself: it runs now, after what was recorded before it, and again at every replay. */
    Event outOfBand(Supplier<Event> command, RunContext ctx) {
        closeSegment(ctx);
        steps.add(new Recording.Reissue(node.name(), command));
        return ctx.enqueuePlain(device, command);
    }

    /** Enqueues the open segment (if it has commands) and starts a new one on the next launch. */
    private void closeSegment(RunContext ctx) {
        if (open == null) return;
        CommandBuffer cb = open.finish();
        open = null;
        Recording.Segment segment = new Recording.Segment(cb, List.copyOf(openNodes));
        openNodes = new ArrayList<>();
        steps.add(segment);
        ctx.enqueuePlain(device, cb::enqueue);
    }

    /** Stops recording: what was recorded is enqueued now, the rest of the run is plain. */
    void giveUp(String reason, RunContext ctx) {
        if (gaveUp != null) return;
        closeSegment(ctx);
        gaveUp = reason;
        node = null;
    }

    /** The end of the run's nodes: the last segment is enqueued and the recording made (null when the recorder gave up). */
    Recording finish(RunContext ctx, DeviceAllocations allocations) {
        if (gaveUp != null) return null;
        closeSegment(ctx);
        Recording r = new Recording(device, steps, tensors, owned, allocations, withCache, cache, cacheNodes);
        cache = null;
        cacheNodes.clear();
        owned.clear();
        ownedSet.clear();
        released.clear();
        steps.clear();
        return r;
    }

    /** After giving up: the buffers allocated so far, handed back to the run (which frees them after their last use). */
    List<ClTensor> handBackBuffers() {
        List<ClTensor> left = List.copyOf(owned);
        owned.clear();
        ownedSet.clear();
        released.clear();
        return left;
    }

    /** At the end of a run that made no recording: closes the command buffers (their commands have completed by then). */
    void discard() {
        for (Recording.Step s : steps) if (s instanceof Recording.Segment g) g.commands().close();
        if (open != null) open.close();
        open = null;
        steps.clear();
    }
}
