package dev.offload.cl;

import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;
import java.util.List;

/** A command's completion event with its profiling times. Released on close. */
public final class Event implements AutoCloseable {
    private final ClDriver driver;
    final NativeHandle handle;
    private boolean closed;

    Event(ClDriver driver, NativeHandle handle) {
        this.driver = driver;
        this.handle = handle;
    }

    /** Blocks until the command completes; throws if it failed. */
    public Event await() {
        driver.waitForEvents(List.of(handle));
        int status = driver.eventStatus(handle);
        if (status < 0) throw new ClException("command execution", status);
        return this;
    }

    /** The profiling times of the completed command (waits for it first). */
    public Times times() {
        await();
        return new Times(
                driver.eventProfilingInfo(handle, Cl.PROFILING_COMMAND_QUEUED),
                driver.eventProfilingInfo(handle, Cl.PROFILING_COMMAND_SUBMIT),
                driver.eventProfilingInfo(handle, Cl.PROFILING_COMMAND_START),
                driver.eventProfilingInfo(handle, Cl.PROFILING_COMMAND_END));
    }

    /** Device timestamps in nanoseconds: queued <= submit <= start <= end. */
    public record Times(long queued, long submit, long start, long end) {
        /** start -> end: the time the device spent on the command. */
        public long deviceNanos() { return end - start; }

        /** queued -> start: how long the command waited in the queue. */
        public long queueWaitNanos() { return start - queued; }
    }

    /** Waits for all events at once. */
    public static void awaitAll(List<Event> events) {
        if (events.isEmpty()) return;
        events.getFirst().driver.waitForEvents(events.stream().map(e -> e.handle).toList());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        driver.release(handle);
    }
}
