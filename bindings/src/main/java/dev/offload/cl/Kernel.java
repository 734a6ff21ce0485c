package dev.offload.cl;

import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * A kernel and its arguments. Setting arguments is not thread-safe (OpenCL's rule): a kernel object
 * belongs to one thread at a time.
 */
public final class Kernel implements AutoCloseable {
    private final Context context;
    private final ClDriver driver;
    final NativeHandle handle;
    private boolean closed;

    Kernel(Context context, NativeHandle handle) {
        this.context = context;
        this.driver = context.driver;
        this.handle = handle;
    }

    public String name() { return InfoBytes.string(driver.kernelInfo(handle, Cl.KERNEL_FUNCTION_NAME)); }

    public int argCount() { return InfoBytes.u32(driver.kernelInfo(handle, Cl.KERNEL_NUM_ARGS)); }

    private Kernel set(int index, String what, Runnable call) {
        try {
            call.run();
        } catch (ClException e) {
            throw new ClException(e.call(), e.errorCode(), "kernel " + name() + " argument " + index + " (" + what + ")", null);
        }
        return this;
    }

    public Kernel arg(int index, Buffer buffer) {
        return set(index, "buffer", () -> driver.setKernelArgBuffer(handle, index, buffer.handle));
    }

    public Kernel arg(int index, int value) {
        return set(index, "int " + value, () -> driver.setKernelArgValue(handle, index, InfoBytes.ofInt(value)));
    }

    public Kernel arg(int index, long value) {
        return set(index, "long " + value, () -> driver.setKernelArgValue(handle, index, InfoBytes.ofLong(value)));
    }

    public Kernel arg(int index, float value) {
        return set(index, "float " + value, () -> driver.setKernelArgValue(handle, index, InfoBytes.ofFloat(value)));
    }

    /** A {@code __local} argument of {@code bytes} bytes. */
    public Kernel argLocal(int index, long bytes) {
        return set(index, "local " + bytes + " bytes", () -> driver.setKernelArgLocal(handle, index, bytes));
    }

    /** A {@code __local} argument's size, for {@link #setArgs}. */
    public record LocalMemory(long bytes) {}

    /**
     * Sets every argument in order, so that no call site counts positions. Each value is a {@link Buffer}, an
     * {@link Integer}, {@link Long} or {@link Float} (passed by value), a {@link LocalMemory}, or a {@link List} of
     * those (a group of arguments one helper owns, such as a mask's), spliced in where it stands. Throws
     * IllegalArgumentException when the number of values differs from the kernel's argument count.
     */
    public Kernel setArgs(Object... values) {
        List<Object> flat = new ArrayList<>();
        flatten(java.util.Arrays.asList(values), flat);   // checks every value's type before any argument is set
        int expected = argCount();
        if (flat.size() != expected) {
            throw new IllegalArgumentException("kernel " + name() + " takes " + expected + " arguments, got " + flat.size());
        }
        for (int i = 0; i < flat.size(); i++) {
            switch (flat.get(i)) {
                case Buffer b -> arg(i, b);
                case Integer v -> arg(i, (int) v);
                case Long v -> arg(i, (long) v);
                case Float v -> arg(i, (float) v);
                case LocalMemory l -> argLocal(i, l.bytes());
                default -> throw new IllegalStateException("unreachable: flatten checked the type");
            }
        }
        return this;
    }

    private void flatten(List<?> values, List<Object> into) {
        for (Object v : values) {
            switch (v) {
                case null -> throw new NullPointerException("kernel " + name() + " argument " + into.size() + " is null");
                case List<?> group -> flatten(group, into);
                case Buffer b -> into.add(b);
                case Integer i -> into.add(i);
                case Long l -> into.add(l);
                case Float f -> into.add(f);
                case LocalMemory l -> into.add(l);
                default -> throw new IllegalArgumentException("kernel " + name() + " argument " + into.size()
                        + ": cannot pass a " + v.getClass().getSimpleName());
            }
        }
    }

    /** The largest work-group this kernel can be launched with on the context's device. */
    public long maxWorkGroupSize() {
        return InfoBytes.sizeT(driver.kernelWorkGroupInfo(handle, context.device().handle, Cl.KERNEL_WORK_GROUP_SIZE));
    }

    /** {@code reqd_work_group_size} of the kernel, or {0,0,0} when it has none. */
    public long[] requiredWorkGroupSize() {
        return InfoBytes.sizeTs(driver.kernelWorkGroupInfo(handle, context.device().handle, Cl.KERNEL_COMPILE_WORK_GROUP_SIZE));
    }

    /** Names and types of the arguments, when the implementation keeps them (else an empty list). */
    public List<Arg> args() {
        List<Arg> out = new ArrayList<>();
        int n = argCount();
        for (int i = 0; i < n; i++) {
            try {
                String type = InfoBytes.string(driver.kernelArgInfo(handle, i, Cl.KERNEL_ARG_TYPE_NAME));
                String name = InfoBytes.string(driver.kernelArgInfo(handle, i, Cl.KERNEL_ARG_NAME));
                int q = InfoBytes.u32(driver.kernelArgInfo(handle, i, Cl.KERNEL_ARG_ADDRESS_QUALIFIER));
                String space = switch (q) {
                    case Cl.KERNEL_ARG_ADDRESS_GLOBAL -> "global";
                    case Cl.KERNEL_ARG_ADDRESS_LOCAL -> "local";
                    case Cl.KERNEL_ARG_ADDRESS_CONSTANT -> "constant";
                    default -> "private";
                };
                out.add(new Arg(i, name, type, space));
            } catch (ClException e) {
                if (e.errorCode() == ClError.CL_KERNEL_ARG_INFO_NOT_AVAILABLE) return List.of();
                throw e;
            }
        }
        return out;
    }

    /** One kernel argument: position, name, OpenCL C type and address space. */
    public record Arg(int index, String name, String type, String addressSpace) {
        /** {@code global char*} style signature, as bitstream manifests store it. */
        public String signature() {
            return ("private".equals(addressSpace) ? "" : addressSpace + " ") + type;
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        driver.release(handle);
    }
}
