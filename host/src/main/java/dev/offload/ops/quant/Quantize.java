package dev.offload.ops.quant;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.quant.QuantizeReference.DynamicQuantized;
import dev.offload.ops.quant.QuantizeReference.RowQuantized;

/**
 * Quantize and dequantize on an OpenCL device (kernels {@code quantize.cl}, judged bit for bit by
 * {@link QuantizeReference}). Buffer methods write into caller-provided outputs and return the device time
 * in nanoseconds; array methods upload, run and read back. Thread-safe (kernels are created per call).
 */
public final class Quantize {
    /** Divisions must round as Java's do, or a quotient one ulp off can round to a different integer. */
    static final String BUILD_OPTIONS = "-cl-fp32-correctly-rounded-divide-sqrt";
    /** Work-items of the first min/max stage: enough to keep every core busy, few enough for stage 2. */
    private static final int MIN_MAX_ITEMS = 64;

    private final OpenClDevice device;

    public Quantize(OpenClDevice device) { this.device = device; }

    private Program program() { return device.program(KernelFamily.QUANTIZE, buildOptions()); }

    /** The build options of quantize.cl's one program (before the device's style define). */
    public static String buildOptions() { return BUILD_OPTIONS; }

    /**
     * ONNX DynamicQuantizeLinear of {@code n} floats: the min/max reduction, the parameters and the
     * quantization all run on the device (no round trip through the host).
     *
     * @param y         n bytes (uint8)
     * @param scale     4 bytes: the float scale
     * @param zeroPoint 4 bytes: the int zero point
     */
    public long dynamicQuantizeLinear(Buffer x, int n, Buffer y, Buffer scale, Buffer zeroPoint) {
        if (n < 1) throw new IllegalArgumentException("DynamicQuantizeLinear needs at least one element, got " + n);
        requireBytes("x", x, 4L * n);
        requireBytes("y", y, n);
        requireBytes("scale", scale, 4);
        requireBytes("zero point", zeroPoint, 4);
        int items = Math.min(MIN_MAX_ITEMS, n);
        int perItem = (n + items - 1) / items;
        items = (n + perItem - 1) / perItem;
        Program p = program();
        try (Buffer partial = device.context().createBuffer(8L * items);
             Kernel minMax = p.kernel("dql_min_max"); Kernel params = p.kernel("dql_params");
             Kernel apply = p.kernel("dql_apply")) {
            minMax.setArgs(x, n, perItem, partial);
            params.setArgs(partial, items, scale, zeroPoint);
            apply.setArgs(x, n, scale, zeroPoint, y);
            try (Event e1 = device.launch(minMax, new long[] {items}, null);
                 Event e2 = device.launch(params, new long[] {1}, null);
                 Event e3 = device.launch(apply, new long[] {n}, null)) {
                return e1.times().deviceNanos() + e2.times().deviceNanos() + e3.times().deviceNanos();
            }
        }
    }

    /**
     * Where {@link #enqueueGroups} takes each group's range: the tensor is [groups][rowsPerGroup][cols], and group
     * g's range covers its first {@code lengths[g]} rows (all rows when lengths is null or lengths[g] is 0).
     */
    public record Groups(int groups, int rowsPerGroup, int cols, Buffer lengths) {
        public Groups {
            if (groups < 1 || rowsPerGroup < 1 || cols < 1) {
                throw new IllegalArgumentException("quantize groups need positive sizes, got " + groups + "x" + rowsPerGroup + "x" + cols);
            }
        }

        public long elements() { return (long) groups * rowsPerGroup * cols; }
    }

    /**
     * Enqueues DynamicQuantizeLinear per group of rows without waiting (the graph runtime's quantize node): uint8
     * {@code y}, and per group a scale (an all-zero range gives 1) and zero point, computed on the device.
     *
     * @param groupScales     groups floats (written)
     * @param groupZeroPoints groups ints (written)
     * @param rowScales       null, or groups * rowsPerGroup floats: each row's group scale (per-row output)
     * @param rowZeroPoints   null, or groups * rowsPerGroup ints
     * @param partial         scratch of {@link #groupScratchBytes} bytes
     */
    public void enqueueGroups(Buffer x, Groups g, Buffer y, Buffer groupScales, Buffer groupZeroPoints,
                              Buffer rowScales, Buffer rowZeroPoints, Buffer partial, KernelLauncher launcher) {
        enqueueGroups(x, g, y, groupScales, groupZeroPoints, rowScales, rowZeroPoints, partial, launcher, inOneLaunch(g));
    }

    /** {@link #enqueueGroups}, in one launch or in two as {@code oneLaunch} says (tests run both on the same input). */
    void enqueueGroups(Buffer x, Groups g, Buffer y, Buffer groupScales, Buffer groupZeroPoints, Buffer rowScales,
                       Buffer rowZeroPoints, Buffer partial, KernelLauncher launcher, boolean oneLaunch) {
        long n = g.elements();
        requireBytes("x", x, 4 * n);
        requireBytes("y", y, n);
        requireBytes("group scales", groupScales, 4L * g.groups());
        requireBytes("group zero points", groupZeroPoints, 4L * g.groups());
        requireBytes("partial", partial, groupScratchBytes(g));
        boolean perRow = rowScales != null;
        if (perRow) {
            requireBytes("row scales", rowScales, 4L * g.groups() * g.rowsPerGroup());
            requireBytes("row zero points", rowZeroPoints, 4L * g.groups() * g.rowsPerGroup());
        }
        if (g.lengths() != null) requireBytes("lengths", g.lengths(), 4L * g.groups());
        Program p = program();
        Buffer lengthsArg = g.lengths() != null ? g.lengths() : groupZeroPoints;   // a kernel argument cannot be null
        if (oneLaunch) {
            try (Kernel whole = p.kernel("dqg_whole")) {
                whole.setArgs(x, g.cols(), g.rowsPerGroup(), lengthsArg, g.lengths() != null ? 1 : 0, groupScales, groupZeroPoints, y,
                        perRow ? 1 : 0, perRow ? rowScales : groupScales, perRow ? rowZeroPoints : groupZeroPoints);
                launcher.launch(whole, new long[] {g.groups()}, new long[] {1});
            }
            return;
        }
        int items = itemsPerGroup(g);
        try (Kernel minMax = p.kernel("dqg_min_max"); Kernel apply = p.kernel("dqg_apply")) {
            minMax.setArgs(x, g.cols(), g.rowsPerGroup(), lengthsArg, g.lengths() != null ? 1 : 0, partial);
            // One item per work-group: PoCL runs a work-group on one thread, so the items spread over all cores.
            launcher.launch(minMax, new long[] {items, g.groups()}, new long[] {1, 1});
            // Each row's work-item reduces its group's partials to the parameters itself (no launch between the two).
            int rows = g.groups() * g.rowsPerGroup();
            apply.setArgs(x, g.cols(), g.rowsPerGroup(), rows, partial, items, groupScales, groupZeroPoints, y, perRow ? 1 : 0,
                    perRow ? rowScales : groupScales, perRow ? rowZeroPoints : groupZeroPoints);
            launcher.launch(apply, new long[] {rows}, device.rowsLocalSize(rows));
        }
    }

    /**
     * Whether {@link #enqueueGroups} runs as one launch, a work-item per group (dqg_whole), instead of a min/max
     * launch and a work-item per row: where there are at least as many groups as compute units, or a group is small
     * (at most {@value #ONE_LAUNCH_GROUP_ELEMENTS} values). Each launch boundary costs PoCL's pthread device tens of
     * microseconds while a worker thread wakes (docs/cpu-speed.md), which is more than the per-row split saves
     * there. Measured on the 2-core machine, kernel time alone: one group of 128 x 384 values 30 us in one launch
     * against 35 us in two; 8 groups of 128 x 1536 0.54 ms against 0.64 ms; one group of 128 x 1536 0.12 ms against
     * 0.07 ms, which keeps two launches.
     */
    /** Whether {@link #enqueueGroups} runs these groups as one launch on this device ({@link #inOneLaunch(Groups, int)}). */
    public boolean inOneLaunch(Groups g) { return inOneLaunch(g, device.info().computeUnits()); }

    static boolean inOneLaunch(Groups g, int computeUnits) {
        return g.groups() >= Math.max(1, computeUnits) || (long) g.rowsPerGroup() * g.cols() <= ONE_LAUNCH_GROUP_ELEMENTS;
    }

    static final int ONE_LAUNCH_GROUP_ELEMENTS = 65536;

    /** Bytes of the min/max scratch {@link #enqueueGroups} needs. */
    public static long groupScratchBytes(Groups g) { return 8L * itemsPerGroup(g) * g.groups(); }

    /** Enough work-items in all to keep every core busy in the min/max pass, at least 256 elements each. */
    private static int itemsPerGroup(Groups g) {
        long perGroup = (long) g.rowsPerGroup() * g.cols();
        return (int) Math.max(1, Math.min(Math.max(1, MIN_MAX_ITEMS / g.groups()), perGroup / 256));
    }

    public DynamicQuantized dynamicQuantizeLinear(float[] x) {
        try (Buffer xb = device.upload(x); Buffer y = device.context().createBuffer(x.length);
             Buffer s = device.context().createBuffer(4); Buffer z = device.context().createBuffer(4)) {
            dynamicQuantizeLinear(xb, x.length, y, s, z);
            return new DynamicQuantized(device.readBytes(y, x.length), device.readFloats(s, 1)[0], device.readInts(z, 1)[0]);
        }
    }

    /**
     * Symmetric int8 per row of a [rows][cols] float tensor.
     *
     * @param q      rows*cols bytes (int8)
     * @param scales rows floats
     */
    public long symmetricPerRow(Buffer x, int rows, int cols, Buffer q, Buffer scales) {
        long[] deviceNs = {0};
        enqueueSymmetricPerRow(x, rows, cols, q, scales, (k, global, local) -> {
            try (Event e = device.launch(k, global, local)) {
                deviceNs[0] = e.times().deviceNanos();
            }
        });
        return deviceNs[0];
    }

    /** {@link #symmetricPerRow(Buffer, int, int, Buffer, Buffer)} enqueued through {@code launcher}, without waiting. */
    public void enqueueSymmetricPerRow(Buffer x, int rows, int cols, Buffer q, Buffer scales, KernelLauncher launcher) {
        enqueueSymmetricPerRow(x, rows, cols, q, scales, null, launcher);
    }

    /**
     * The same, also writing each row's zero point (0, as int32) into {@code zeroPoints} (rows ints) in the same
     * launch; null writes none. One kernel rather than a buffer fill: a recorded graph run keeps it in its segment.
     */
    public void enqueueSymmetricPerRow(Buffer x, int rows, int cols, Buffer q, Buffer scales, Buffer zeroPoints, KernelLauncher launcher) {
        QuantizeReference.checkShape(rows * cols, rows, cols);
        requireBytes("x", x, 4L * rows * cols);
        requireBytes("q", q, (long) rows * cols);
        requireBytes("scales", scales, 4L * rows);
        if (zeroPoints != null) requireBytes("zero points", zeroPoints, 4L * rows);
        try (Kernel k = program().kernel("symmetric_rows")) {
            // Without zero points the kernel never touches the argument; scales stands in for it.
            k.setArgs(x, rows, cols, q, scales, zeroPoints != null ? zeroPoints : scales, zeroPoints != null ? 1 : 0);
            launcher.launch(k, new long[] {rows}, null);
        }
    }

    public RowQuantized symmetricPerRow(float[] x, int rows, int cols) {
        QuantizeReference.checkShape(x.length, rows, cols);
        try (Buffer xb = device.upload(x); Buffer q = device.context().createBuffer(x.length);
             Buffer s = device.context().createBuffer(4L * rows)) {
            symmetricPerRow(xb, rows, cols, q, s);
            return new RowQuantized(device.readBytes(q, x.length), device.readFloats(s, rows));
        }
    }

    /**
     * Enqueues symmetric int8 per block of 32 (ggml's block_q8_0, {@link QuantizeReference#perBlockInt8}) of a
     * [rows][cols] float tensor without waiting: {@code q} gets rows*cols int8 values, {@code scales} one float per
     * block (rows * cols / 32), the fp16 value of the block's scale, and {@code zeroPoint} its one int32, 0 (written by
     * the same kernel, so that the graph's node is one command).
     */
    public void enqueuePerBlockInt8(Buffer x, int rows, int cols, Buffer q, Buffer scales, Buffer zeroPoint, KernelLauncher launcher) {
        QuantizeReference.checkShape(rows * cols, rows, cols);
        if (cols % Q8Block.SIZE != 0) {
            throw new IllegalArgumentException("per-block int8 needs a multiple of " + Q8Block.SIZE + " columns, got " + cols);
        }
        int blocks = rows * cols / Q8Block.SIZE;
        requireBytes("x", x, 4L * rows * cols);
        requireBytes("q", q, (long) rows * cols);
        requireBytes("scales", scales, 4L * blocks);
        requireBytes("zeroPoint", zeroPoint, 4);
        try (Kernel k = program().kernel("block_int8")) {
            k.setArgs(x, blocks, q, scales, zeroPoint);
            launcher.launch(k, new long[] {blocks}, device.rowsLocalSize(blocks));
        }
    }

    /** Array convenience of {@link #enqueuePerBlockInt8}: (data, scales, zero point [0]). */
    public QuantizeReference.Quantized perBlockInt8(float[] x, int rows, int cols) {
        QuantizeReference.checkShape(x.length, rows, cols);
        int blocks = x.length / Q8Block.SIZE;
        try (Buffer xb = device.upload(x); Buffer q = device.context().createBuffer(x.length);
             Buffer s = device.context().createBuffer(4L * Math.max(1, blocks)); Buffer z = device.context().createBuffer(4)) {
            enqueuePerBlockInt8(xb, rows, cols, q, s, z, (k, global, local) -> device.launch(k, global, local).close());
            return new QuantizeReference.Quantized(device.readBytes(q, x.length), device.readFloats(s, blocks), device.readInts(z, 1));
        }
    }

    /** y = (q - zeroPoint) * scale for a [rows][cols] int8/uint8 tensor; {@code y} holds rows*cols floats. */
    public long dequantize(Buffer q, QuantType type, int rows, int cols, QuantParams params, Buffer y) {
        QuantizeReference.checkShape(rows * cols, rows, cols);
        params.check(rows, cols);
        requireBytes("q", q, (long) rows * cols);
        requireBytes("y", y, 4L * rows * cols);
        long[] nanos = {0};
        try (Buffer s = device.upload(params.scale()); Buffer z = device.upload(params.zeroPoint())) {
            enqueueDequantize(q, type, rows, cols, params.axis(), s, z, y, (kernel, global, local) -> {
                try (Event e = device.launch(kernel, global, local)) {
                    nanos[0] = e.times().deviceNanos();
                }
            });
        }
        return nanos[0];
    }

    /**
     * Enqueues y = (q - zeroPoint) * scale with the parameters already on the device (one for the tensor, one per
     * row or one per column, as {@code axis} says), without waiting: the graph's dequantize node.
     */
    public void enqueueDequantize(Buffer q, QuantType type, int rows, int cols, QuantParams.Axis axis, Buffer scales,
                                  Buffer zeroPoints, Buffer y, KernelLauncher launcher) {
        try (Kernel k = program().kernel("dequantize")) {
            k.setArgs(q, type == QuantType.UINT8 ? 1 : 0, rows, cols, axis.ordinal(), scales, zeroPoints, y);
            launcher.launch(k, new long[] {(long) rows * cols}, null);
        }
    }

    public float[] dequantize(byte[] q, QuantType type, int rows, int cols, QuantParams params) {
        QuantizeReference.checkShape(q.length, rows, cols);
        try (Buffer qb = device.upload(q); Buffer y = device.context().createBuffer(4L * q.length)) {
            dequantize(qb, type, rows, cols, params, y);
            return device.readFloats(y, q.length);
        }
    }

    private static void requireBytes(String what, Buffer b, long bytes) {
        if (b.size() < bytes) throw new IllegalArgumentException(what + " buffer has " + b.size() + " bytes, needs " + bytes);
    }
}
