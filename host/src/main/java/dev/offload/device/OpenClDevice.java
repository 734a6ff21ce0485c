package dev.offload.device;

import dev.offload.cl.Buffer;
import dev.offload.cl.Context;
import dev.offload.cl.Device;
import dev.offload.cl.DeviceInfo;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.cl.Queue;
import dev.offload.kernels.KernelFamily;
import dev.offload.kernels.KernelSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One OpenCL device opened for work: its context, one in-order profiling queue, its {@link KernelStyle}, and a
 * cache of built programs keyed by kernel family and build options (builds cost most of a second on PoCL).
 * The style applies here, centrally: {@link #program} adds its define to every build, and {@link #launch}
 * gives every launch its local size.
 */
public final class OpenClDevice implements ComputeDevice {
    private static final Logger log = LoggerFactory.getLogger(OpenClDevice.class);

    private final Device device;
    private final Context context;
    private final Queue queue;
    private final Map<String, Program> programs = new ConcurrentHashMap<>();
    private volatile ProgramSource programSource = ProgramSource.FROM_SOURCE;
    private volatile KernelStyle kernelStyle;

    public OpenClDevice(Device device) {
        this.device = device;
        this.kernelStyle = KernelStyle.forDevice(device.info());
        this.context = Context.create(device);
        this.queue = context.createQueue();
    }

    /** Where programs come from: compiled from source, or a binary store/cache (set by the bitstream layer). */
    public interface ProgramSource {
        Program build(OpenClDevice device, KernelSource source, String options);

        ProgramSource FROM_SOURCE = (d, s, o) -> d.context().buildProgram(s.text(), o);
    }

    public void programSource(ProgramSource source) { this.programSource = source; }

    /** The installed program source (the bitstream layer's records where each program came from and how long it took). */
    public ProgramSource programSource() { return programSource; }

    public Device device() { return device; }

    /** How this device's kernels are shaped: FPGA style on accelerators (or when forced), else portable. */
    public KernelStyle kernelStyle() { return kernelStyle; }

    /** Forces a kernel style (validate --kernel-style); programs built afterwards use it. */
    public void kernelStyle(KernelStyle style) { this.kernelStyle = java.util.Objects.requireNonNull(style); }

    /**
     * Enqueues a kernel with the local size this device's style needs (FPGA style: 1 in every dimension, as
     * its kernels require); {@code local} is the portable-style request (null: the driver chooses).
     */
    public Event launch(Kernel kernel, long[] global, long[] local) {
        return queue.launch(kernel, global, kernelStyle.local(global, local));
    }

    /**
     * The local size for a 1-D kernel whose work-items each walk a whole row (norms, row quantization, embedding
     * rows). On a CPU device: the largest divisor of {@code rows} up to 16, so there are work-groups for every core
     * (PoCL runs a work-group on one thread, and left to choose it made one group of 4096 rows: a 4096 x 384 layer
     * norm ran on one core, 420 us instead of 225 us). Other devices choose for themselves (null).
     */
    public long[] rowsLocalSize(long rows) {
        if (info().type() != dev.offload.cl.DeviceType.CPU) return null;
        long local = Math.min(16, rows);
        while (rows % local != 0) local--;
        return new long[] {local};
    }

    public DeviceInfo info() { return device.info(); }

    public Context context() { return context; }

    /** The device's in-order queue; ops enqueue on it and synchronize through its events. */
    public Queue queue() { return queue; }

    @Override public String spec() { return device.spec(); }

    @Override
    public String description() {
        DeviceInfo i = device.info();
        return device.spec() + " " + i.name() + " [" + device.platform().name() + ", " + i.type() + ", "
                + i.computeUnits() + " CU, via " + device.bindingName() + "]";
    }

    /**
     * The program of a kernel family built with the given options plus this device's style define, from the
     * cache when it was built before. Thread-safe; concurrent first requests build once.
     */
    public Program program(KernelFamily family, String options) {
        String styled = kernelStyle.apply(options);
        String key = family.id() + "|" + styled;
        return programs.computeIfAbsent(key, k -> {
            KernelSource source = KernelSource.load(family);
            long t0 = System.nanoTime();
            Program p = programSource.build(this, source, styled);
            log.debug("built {} for {} with '{}' in {} ms", family.id(), device.name(), styled,
                    (System.nanoTime() - t0) / 1_000_000);
            return p;
        });
    }

    /** A new device buffer with a copy of {@code host}, copied at creation: it does not wait for this device's queue. */
    public Buffer upload(MemorySegment host) {
        return host.byteSize() > 0 ? context.createBuffer(host) : context.createBuffer(1);
    }

    public Buffer upload(byte[] data) {
        try (Arena a = Arena.ofConfined()) { return upload(a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, data)); }
    }

    public Buffer upload(int[] data) {
        try (Arena a = Arena.ofConfined()) { return upload(a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_INT, data)); }
    }

    public Buffer upload(float[] data) {
        try (Arena a = Arena.ofConfined()) { return upload(a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, data)); }
    }

    public int[] readInts(Buffer b, int count) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(4L * count);
            queue.readBlocking(b, s.asSlice(0, 4L * count));
            return s.toArray(java.lang.foreign.ValueLayout.JAVA_INT);
        }
    }

    public float[] readFloats(Buffer b, int count) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(4L * count);
            queue.readBlocking(b, s);
            return s.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
        }
    }

    public byte[] readBytes(Buffer b, int count) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(count);
            queue.readBlocking(b, s);
            return s.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    @Override
    public void close() {
        programs.values().forEach(Program::close);
        programs.clear();
        queue.close();
        context.close();
    }

    @Override public String toString() { return description(); }
}
