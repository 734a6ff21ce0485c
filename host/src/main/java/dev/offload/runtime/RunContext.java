package dev.offload.runtime;

import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.TensorType;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The state of one run that op implementations touch: output allocation, kernel launches (their events are kept
 * for the profile and closed when the run ends) and a native arena for host transfers. Used by one thread.
 */
public final class RunContext implements AutoCloseable {
    /** An enqueued command, the host clock just before it was enqueued, and what it belongs to. */
    record Command(String node, boolean transfer, OpenClDevice device, long hostBeforeNs, Event event) {
        /** Profiling times (waits for the command). */
        Event.Times times() { return event.times(); }
    }

    private final DeviceAllocations allocations;
    private final Arena arena = Arena.ofConfined();
    private final List<Command> commands = new ArrayList<>();
    /** Buffers this run allocated and has not released yet; whatever is left is closed with the run. */
    private final java.util.Set<ClTensor> live = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private String currentNode = "";
    private boolean currentIsTransfer;

    private KvCache kvCache;
    /** Non-null while this run is being recorded. */
    private Recorder recorder;

    RunContext(DeviceAllocations allocations) { this.allocations = allocations; }

    /** Records this run (see {@link Recorder}). */
    void record(Recorder recorder) { this.recorder = recorder; }

    Recorder recorder() { return recorder; }

    /** The recorder stops; the buffers it held are the run's again (freed after their last use, or with the run). */
    void giveUpRecording(String reason) {
        if (recorder == null || !recorder.recording()) return;
        recorder.giveUp(reason, this);
        live.addAll(recorder.handBackBuffers());
    }


    /** Sets the cache of the request (micro-batch) whose nodes are enqueued next. */
    void kvCache(KvCache cache) { this.kvCache = cache; }

    /** The request's KV cache that causal attention appends to and reads, or null for a run without one. */
    public KvCache kvCache() { return kvCache; }

    void attribute(String node, boolean transfer) {
        this.currentNode = node;
        this.currentIsTransfer = transfer;
    }

    /** A new device buffer for an output; the run closes it after the tensor's last use. */
    public ClTensor allocate(OpenClDevice device, TensorType type) { return allocate(device, type, true); }

    /**
     * A new buffer for a graph input the host writes. While recording, never a reused one: the write goes to the queue
     * at once, ahead of the open segment's commands, which may still read what the buffer held before.
     */
    ClTensor allocateForWrite(OpenClDevice device, TensorType type) { return allocate(device, type, false); }

    private ClTensor allocate(OpenClDevice device, TensorType type, boolean mayReuse) {
        boolean recording = recorder != null && recorder.recording();
        if (recording && mayReuse) {
            // Not poisoned: a fill now would run before the recorded commands still pending that read the buffer.
            ClTensor reused = recorder.reuse(device, type);
            if (reused != null) return reused;
        }
        ClTensor t = new ClTensor(type, allocations.activation(device, type.bytes()), device);
        if (recording) recorder.own(t);
        else live.add(t);
        return t;
    }

    /** Enqueues a kernel on the device's queue without waiting (or records it); its event is timed for the profile. */
    public void launch(OpenClDevice device, Kernel kernel, long[] global, long[] local) {
        if (recorder != null && recorder.recordsLaunches()) {
            if (device != recorder.device()) throw new IllegalStateException("a launch on " + device.spec() + " while recording " + recorder.device().spec());
            recorder.kernel(kernel, global, local);
            return;
        }
        enqueue(device, () -> device.launch(kernel, global, local));
    }

    /**
     * Enqueues any command returning an event (copy, fill, write) and keeps its event for the profile. While a
     * recorded node runs, the command is enqueued after what was recorded before it, and again at every replay: it
     * must enqueue the same command each time (a fill of a buffer the node allocated, not a copy at a moving offset).
     */
    public Event enqueue(OpenClDevice device, Supplier<Event> command) {
        if (recorder != null && recorder.recordsLaunches()) return recorder.outOfBand(command, this);
        return enqueuePlain(device, command);
    }

    /**
     * Enqueues the write of a KV cache's token counts for a decode step ({@link KvCache#appendInKernel}). While
     * recording, the write goes to the queue at once, ahead of the open segment (whose commands before the first
     * decode-step node do not read the counts, and the previous run's commands have ended), and a replay writes the
     * counts of its own step instead of being recorded.
     */
    void writeStepLengths(OpenClDevice device, Supplier<Event> write) {
        if (recorder != null && recorder.recording()) {
            String why = recorder.stepLengthsWritten(device);
            if (why != null) giveUpRecording(why);
        }
        enqueuePlain(device, write);
    }

    /** A decode-step node extended {@code cache} in its kernels: a recording of this run replays only with that cache. */
    void decodeStepAppended(KvCache cache, String node) {
        if (recorder != null && recorder.recording()) {
            String why = recorder.decodeStepAppended(cache, node);
            if (why != null) giveUpRecording(why);
        }
    }

    /** Enqueues on the queue (never recorded). */
    Event enqueuePlain(OpenClDevice device, Supplier<Event> command) {
        long before = System.nanoTime();
        Event e = command.get();
        allocations.eventOpened();
        commands.add(new Command(currentNode, currentIsTransfer, device, before, e));
        return e;
    }

    /** Native memory that lives until the run ends (non-blocking transfers read from and write into it). */
    public Arena arena() { return arena; }

    /**
     * Closes a tensor's buffer after its last reader was enqueued. OpenCL keeps the memory until the commands
     * that use it have finished, so this does not wait.
     */
    public void release(ClTensor t) {
        if (live.remove(t)) allocations.activationClosed(t.device(), t.buffer());
        else if (recorder != null && recorder.recording() && recorder.owns(t)) recorder.released(t);   // a recording's buffers are not in live
    }

    List<Command> commands() { return commands; }

    @Override
    public void close() {
        if (recorder != null) {
            // A recorder still here made no recording (it gave up, or the run failed): its buffers are the run's.
            live.addAll(recorder.handBackBuffers());
            recorder.discard();
        }
        for (ClTensor t : live) allocations.activationClosed(t.device(), t.buffer());
        live.clear();
        for (Command c : commands) {
            c.event().close();
            allocations.eventClosed();
        }
        commands.clear();
        arena.close();
    }
}
