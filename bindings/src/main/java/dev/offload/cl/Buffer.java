package dev.offload.cl;

import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;

/** Device memory (cl_mem). Released on close. */
public final class Buffer implements AutoCloseable {
    private final ClDriver driver;
    final NativeHandle handle;
    private final long size;
    private boolean closed;

    Buffer(ClDriver driver, NativeHandle handle, long size) {
        this.driver = driver;
        this.handle = handle;
        this.size = size;
    }

    /** Size in bytes. */
    public long size() { return size; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        driver.release(handle);
    }
}
