package dev.offload.cl;

import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;
import java.util.List;

/**
 * Commands recorded once for one queue and enqueued as one command as often as wanted (cl_khr_command_buffer): the
 * host pays for argument setting and command creation at recording, not at every run. Kernels are recorded with the
 * arguments set at the time: each command records a clone of the kernel made then and kept until {@link #close}
 * (PoCL 3.1 reads a recorded kernel's arguments when the buffer runs, so recording the caller's object would see
 * later changes), so a kernel object may be changed or released after {@link #kernel}. Every command waits for the
 * one recorded before it, the order an in-order queue gives.
 *
 * <p>Record with {@link #kernel} and {@link #copy}, then {@link #finish}; {@link #enqueue} after that. Not
 * thread-safe; one enqueue at a time (the buffers it writes are shared between its runs).
 * {@link Device#commandBuffersUnsupported()} says whether a device can record at all.
 */
public final class CommandBuffer implements AutoCloseable {
    private final ClDriver driver;
    private final Queue queue;
    private final NativeHandle handle;
    private final List<NativeHandle> clones = new java.util.ArrayList<>();
    private int[] last = new int[0];
    private int commands;
    private boolean finished, closed;

    private CommandBuffer(Queue queue) {
        this.queue = queue;
        this.driver = queue.context().driver;
        Device d = queue.context().device();
        String why = d.commandBuffersUnsupported();
        if (why != null) throw new UnsupportedOperationException("cannot record a command buffer on " + d.spec() + ": " + why);
        this.handle = driver.createCommandBuffer(d.platform().handle, queue.handle);
    }

    /** A command buffer recording for {@code queue}; UnsupportedOperationException when its device cannot record. */
    public static CommandBuffer record(Queue queue) { return new CommandBuffer(queue); }

    private void recording() {
        if (finished) throw new IllegalStateException("the command buffer is finished: nothing more can be recorded");
    }

    /** Records a kernel launch with the kernel's arguments as they are set now. */
    public CommandBuffer kernel(Kernel kernel, long[] global, long[] local) {
        recording();
        if (local != null && local.length != global.length) {
            throw new IllegalArgumentException("global has " + global.length + " dimensions, local " + local.length);
        }
        NativeHandle clone = driver.cloneKernel(kernel.handle);
        clones.add(clone);
        last = new int[] {driver.commandNDRangeKernel(handle, clone, global.clone(), local == null ? null : local.clone(), last)};
        commands++;
        return this;
    }

    /** Records a buffer-to-buffer copy. */
    public CommandBuffer copy(Buffer source, long sourceOffset, Buffer target, long targetOffset, long bytes) {
        recording();
        if (sourceOffset < 0 || targetOffset < 0 || bytes < 0 || sourceOffset + bytes > source.size() || targetOffset + bytes > target.size()) {
            throw new IllegalArgumentException("copy of " + bytes + " bytes from offset " + sourceOffset + " of " + source.size()
                    + " to offset " + targetOffset + " of " + target.size() + " does not fit");
        }
        last = new int[] {driver.commandCopyBuffer(handle, source.handle, target.handle, sourceOffset, targetOffset, bytes, last)};
        commands++;
        return this;
    }

    /** Commands recorded so far. */
    public int commands() { return commands; }

    /** Ends recording. */
    public CommandBuffer finish() {
        recording();
        driver.finalizeCommandBuffer(handle);
        finished = true;
        return this;
    }

    /** Enqueues the recorded commands on the queue, after the queue's earlier commands; the event is the caller's. */
    public Event enqueue(Event... waitFor) {
        if (!finished) throw new IllegalStateException("finish the command buffer before enqueueing it");
        List<NativeHandle> waits = waitFor == null ? List.of() : java.util.Arrays.stream(waitFor).map(e -> e.handle).toList();
        return new Event(driver, driver.enqueueCommandBuffer(queue.handle, handle, waits));
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        driver.release(handle);
        clones.forEach(driver::release);
        clones.clear();
    }
}
