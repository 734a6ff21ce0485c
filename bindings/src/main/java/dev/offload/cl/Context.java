package dev.offload.cl;

import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;

/**
 * An OpenCL context on one device: the owner of queues, buffers and programs. Closing it releases the
 * context; the objects made from it must be closed first (try-with-resources in reverse order does this).
 */
public final class Context implements AutoCloseable {
    final ClDriver driver;
    final NativeHandle handle;
    private final Device device;
    private boolean closed;

    private Context(Device device) {
        this.device = device;
        this.driver = device.driver;
        this.handle = driver.createContext(device.handleList());
    }

    public static Context create(Device device) { return new Context(device); }

    public Device device() { return device; }

    /** An in-order queue with profiling enabled (its cost is negligible and every op is timed). */
    public Queue createQueue() {
        return new Queue(this, driver.createQueue(handle, device.handle, Cl.QUEUE_PROFILING_ENABLE));
    }

    /** A read-write device buffer of the given size in bytes. */
    public Buffer createBuffer(long bytes) { return createBuffer(bytes, Cl.MEM_READ_WRITE); }

    public Buffer createBuffer(long bytes, long flags) {
        checkSize(bytes);
        return new Buffer(driver, driver.createBuffer(handle, flags, bytes), bytes);
    }

    /**
     * Refuses a size the device cannot allocate before the driver is asked: zero or negative (a wrapped product), or
     * above CL_DEVICE_MAX_MEM_ALLOC_SIZE, which a driver answers with CL_INVALID_BUFFER_SIZE or, on some, not at all.
     */
    private void checkSize(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("buffer size must be positive, got " + bytes);
        long max = device.info().maxAllocBytes();
        if (max > 0 && bytes > max) {
            throw new IllegalArgumentException("a buffer of " + bytes + " bytes is more than " + device.info().name()
                    + " allocates at once (" + max + " bytes, CL_DEVICE_MAX_MEM_ALLOC_SIZE)");
        }
    }

    /**
     * A read-write buffer holding a copy of {@code hostData}, made when the buffer is created (CL_MEM_COPY_HOST_PTR):
     * unlike a blocking write it does not wait for the commands already on a queue.
     */
    public Buffer createBuffer(java.lang.foreign.MemorySegment hostData) {
        checkSize(hostData.byteSize());
        return new Buffer(driver, driver.createBuffer(handle, Cl.MEM_READ_WRITE, hostData), hostData.byteSize());
    }

    /** Compiles OpenCL C source for this context's device; a failure carries the build log. */
    public Program buildProgram(String source, String options) {
        NativeHandle p = driver.createProgramWithSource(handle, source);
        return Program.build(this, p, options, "from source");
    }

    /** Loads a program binary (CL_PROGRAM_BINARIES of an earlier build, or a vendor .aocx/.xclbin) and builds it. */
    public Program loadBinary(byte[] binary, String options) {
        NativeHandle p = driver.createProgramWithBinary(handle, device.handle, binary);
        return Program.build(this, p, options, "from binary");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        driver.release(handle);
    }
}
