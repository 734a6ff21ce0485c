package dev.offload.cl;

import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * An in-order command queue with profiling. Methods that return an {@link Event} hand its ownership
 * to the caller (close it); the {@code ...Blocking} and {@link #run} forms release theirs.
 */
public final class Queue implements AutoCloseable {
    private final Context context;
    private final ClDriver driver;
    final NativeHandle handle;
    private boolean closed;

    Queue(Context context, NativeHandle handle) {
        this.context = context;
        this.driver = context.driver;
        this.handle = handle;
    }

    public Context context() { return context; }

    private static List<NativeHandle> handles(Event... waits) {
        return waits == null || waits.length == 0 ? List.of() : Arrays.stream(waits).map(e -> e.handle).toList();
    }

    private static void checkRange(Buffer b, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > b.size()) {
            throw new IllegalArgumentException("transfer of " + bytes + " bytes at offset " + offset
                    + " does not fit a buffer of " + b.size() + " bytes");
        }
    }

    /** Host -> device, non-blocking: {@code source} must stay alive until the event completes. */
    public Event write(Buffer target, long offset, MemorySegment source, Event... waitFor) {
        checkRange(target, offset, source.byteSize());
        return new Event(driver, driver.enqueueWrite(handle, target.handle, false, offset, source, handles(waitFor)));
    }

    /** Device -> host, non-blocking: {@code target} must stay alive until the event completes. */
    public Event read(Buffer source, long offset, MemorySegment target, Event... waitFor) {
        checkRange(source, offset, target.byteSize());
        return new Event(driver, driver.enqueueRead(handle, source.handle, false, offset, target, handles(waitFor)));
    }

    public void writeBlocking(Buffer target, MemorySegment source) {
        checkRange(target, 0, source.byteSize());
        driver.release(driver.enqueueWrite(handle, target.handle, true, 0, source, List.of()));
    }

    public void readBlocking(Buffer source, MemorySegment target) {
        checkRange(source, 0, target.byteSize());
        driver.release(driver.enqueueRead(handle, source.handle, true, 0, target, List.of()));
    }

    /** Fills {@code bytes} bytes at {@code offset} with a repeated pattern (1, 2, 4, ... 128 bytes long). */
    public Event fill(Buffer target, byte[] pattern, long offset, long bytes, Event... waitFor) {
        checkRange(target, offset, bytes);
        return new Event(driver, driver.enqueueFill(handle, target.handle, pattern, offset, bytes, handles(waitFor)));
    }

    public Event copy(Buffer source, long sourceOffset, Buffer target, long targetOffset, long bytes,
                      Event... waitFor) {
        checkRange(source, sourceOffset, bytes);
        checkRange(target, targetOffset, bytes);
        return new Event(driver, driver.enqueueCopy(handle, source.handle, target.handle, sourceOffset,
                targetOffset, bytes, handles(waitFor)));
    }

    /**
     * Enqueues a kernel over an NDRange.
     *
     * @param local work-group size, or null to let the implementation choose
     */
    public Event launch(Kernel kernel, long[] global, long[] local, Event... waitFor) {
        if (local != null && local.length != global.length) {
            throw new IllegalArgumentException("global has " + global.length + " dimensions, local " + local.length);
        }
        return new Event(driver, driver.enqueueNDRange(handle, kernel.handle, global.clone(),
                local == null ? null : local.clone(), handles(waitFor)));
    }

    /** Enqueues a kernel without keeping its event. */
    public void run(Kernel kernel, long[] global, long[] local) {
        launch(kernel, global, local).close();
    }

    /** An event that completes when the given events (or all earlier commands) complete. */
    public Event marker(Event... waitFor) {
        return new Event(driver, driver.enqueueMarker(handle, handles(waitFor)));
    }

    public void flush() { driver.flush(handle); }

    public void finish() { driver.finish(handle); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        driver.release(handle);
    }
}
