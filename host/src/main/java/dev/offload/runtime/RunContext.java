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

    RunContext(DeviceAllocations allocations) { this.allocations = allocations; }

    /** Sets the cache of the request (micro-batch) whose nodes are enqueued next. */
    void kvCache(KvCache cache) { this.kvCache = cache; }

    /** The request's KV cache that causal attention appends to and reads, or null for a run without one. */
    public KvCache kvCache() { return kvCache; }

    void attribute(String node, boolean transfer) {
        this.currentNode = node;
        this.currentIsTransfer = transfer;
    }

    /** A new device buffer for an output; the run closes it after the tensor's last use. */
    public ClTensor allocate(OpenClDevice device, TensorType type) {
        ClTensor t = new ClTensor(type, allocations.activation(device, type.bytes()), device);
        live.add(t);
        return t;
    }

    /** Enqueues a kernel on the device's queue without waiting; its event is timed for the profile. */
    public void launch(OpenClDevice device, Kernel kernel, long[] global, long[] local) {
        enqueue(device, () -> device.launch(kernel, global, local));
    }

    /** Enqueues any command returning an event (copy, fill, write) and keeps its event for the profile. */
    public Event enqueue(OpenClDevice device, Supplier<Event> command) {
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
    }

    List<Command> commands() { return commands; }

    @Override
    public void close() {
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
