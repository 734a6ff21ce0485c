package dev.offload.ops.quant;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
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
            minMax.arg(0, x).arg(1, n).arg(2, perItem).arg(3, partial);
            params.arg(0, partial).arg(1, items).arg(2, scale).arg(3, zeroPoint);
            apply.arg(0, x).arg(1, n).arg(2, scale).arg(3, zeroPoint).arg(4, y);
            try (Event e1 = device.launch(minMax, new long[] {items}, null);
                 Event e2 = device.launch(params, new long[] {1}, null);
                 Event e3 = device.launch(apply, new long[] {n}, null)) {
                return e1.times().deviceNanos() + e2.times().deviceNanos() + e3.times().deviceNanos();
            }
        }
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
        QuantizeReference.checkShape(rows * cols, rows, cols);
        requireBytes("x", x, 4L * rows * cols);
        requireBytes("q", q, (long) rows * cols);
        requireBytes("scales", scales, 4L * rows);
        try (Kernel k = program().kernel("symmetric_rows")) {
            k.arg(0, x).arg(1, rows).arg(2, cols).arg(3, q).arg(4, scales);
            try (Event e = device.launch(k, new long[] {rows}, null)) {
                return e.times().deviceNanos();
            }
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

    /** y = (q - zeroPoint) * scale for a [rows][cols] int8/uint8 tensor; {@code y} holds rows*cols floats. */
    public long dequantize(Buffer q, QuantType type, int rows, int cols, QuantParams params, Buffer y) {
        QuantizeReference.checkShape(rows * cols, rows, cols);
        params.check(rows, cols);
        requireBytes("q", q, (long) rows * cols);
        requireBytes("y", y, 4L * rows * cols);
        try (Buffer s = device.upload(params.scale()); Buffer z = device.upload(params.zeroPoint());
             Kernel k = program().kernel("dequantize")) {
            k.arg(0, q).arg(1, type == QuantType.UINT8 ? 1 : 0).arg(2, rows).arg(3, cols).arg(4, params.axisCode())
                    .arg(5, s).arg(6, z).arg(7, y);
            try (Event e = device.launch(k, new long[] {(long) rows * cols}, null)) {
                return e.times().deviceNanos();
            }
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
