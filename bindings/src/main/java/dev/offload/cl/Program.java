package dev.offload.cl;

import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;
import java.util.Arrays;
import java.util.List;

/** A program built for one device. Kernels come from {@link #kernel}; its binary from {@link #binary}. */
public final class Program implements AutoCloseable {
    private final Context context;
    private final ClDriver driver;
    final NativeHandle handle;
    private final String options;
    private final long buildNanos;
    private boolean closed;

    private Program(Context context, NativeHandle handle, String options, long buildNanos) {
        this.context = context;
        this.driver = context.driver;
        this.handle = handle;
        this.options = options;
        this.buildNanos = buildNanos;
    }

    static Program build(Context context, NativeHandle handle, String options, String origin) {
        ClDriver driver = context.driver;
        NativeHandle device = context.device().handle;
        long t0 = System.nanoTime();
        try {
            driver.buildProgram(handle, device, options == null ? "" : options);
        } catch (ClException e) {
            String log;
            try {
                log = InfoBytes.string(driver.programBuildInfo(handle, device, Cl.PROGRAM_BUILD_LOG));
            } catch (ClException logFailure) {
                log = "(no build log: " + logFailure.getMessage() + ")";
            }
            driver.release(handle);
            throw new ClException(e.call(), e.errorCode(),
                    origin + " for " + context.device().name() + ", options '" + options + "'", log);
        }
        return new Program(context, handle, options, System.nanoTime() - t0);
    }

    /** The build options the program was built with. */
    public String options() { return options; }

    /** Host time spent in clBuildProgram, in nanoseconds. */
    public long buildNanos() { return buildNanos; }

    public String buildLog() {
        return InfoBytes.string(driver.programBuildInfo(handle, context.device().handle, Cl.PROGRAM_BUILD_LOG));
    }

    /** The names of the kernels the program contains. */
    public List<String> kernelNames() {
        String names = InfoBytes.string(driver.programInfo(handle, Cl.PROGRAM_KERNEL_NAMES));
        return names.isEmpty() ? List.of() : Arrays.asList(names.split(";"));
    }

    /** CL_PROGRAM_BINARIES for the device: what {@link Context#loadBinary} takes back. */
    public byte[] binary() { return driver.programBinary(handle); }

    /** Creates a kernel; an unknown name is CL_INVALID_KERNEL_NAME with the names that exist. */
    public Kernel kernel(String name) {
        try {
            return new Kernel(context, driver.createKernel(handle, name));
        } catch (ClException e) {
            throw new ClException(e.call(), e.errorCode(), "kernel '" + name + "', program has " + kernelNames(), null);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        driver.release(handle);
    }
}
