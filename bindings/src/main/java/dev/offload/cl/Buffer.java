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

    /**
     * A view of {@code bytes} bytes at {@code offset} (clCreateSubBuffer). The offset must be a multiple of
     * the device's base address alignment ({@link DeviceInfo#baseAddressAlignBytes()}). Close it before this buffer.
     */
    public Buffer slice(long offset, long bytes) {
        if (offset < 0 || bytes <= 0 || offset + bytes > size) {
            throw new IllegalArgumentException("slice of " + bytes + " bytes at " + offset + " does not fit " + size + " bytes");
        }
        return new Buffer(driver, driver.createSubBuffer(handle, Cl.MEM_READ_WRITE, offset, bytes), bytes);
    }

    /** Size in bytes. */
    public long size() { return size; }

    /** Whether {@link #close} released it: a holder of its handle (a kernel argument set earlier) must not use it. */
    public boolean isClosed() { return closed; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        driver.release(handle);
    }
}
