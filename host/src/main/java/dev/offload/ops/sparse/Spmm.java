package dev.offload.ops.sparse;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.SparseFormat;
import dev.offload.kernels.KernelFamily;
import dev.offload.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sparse x dense matrix multiply on an OpenCL device ({@code spmm.cl}): {@code Y[M,N] = S[M,K] x B[K,N]} with S
 * in CSR, BSR or 2:4 form, int8 (int32 Y, optionally dequantized to float32) or float32 (float32 Y).
 *
 * <p>Two ways to call it: {@link #upload} S once and {@link #enqueue} into an output buffer the caller owns
 * (what the validator does with a guarded buffer), or the array-in/array-out {@link #multiplyInt8},
 * {@link #multiplyFloat32} and {@link #multiplyDequantized}, which also return the kernel time.
 */
public final class Spmm {
    private static final Logger log = LoggerFactory.getLogger(Spmm.class);

    /** Columns of one row of Y a work-item computes (TILE in spmm.cl). */
    static final int TILE = 32;
    static final String BUILD_OPTIONS = "";

    /** The build options of spmm.cl's one program (before the device's style define). */
    public static String buildOptions() { return BUILD_OPTIONS; }

    private final OpenClDevice device;

    public Spmm(OpenClDevice device) { this.device = device; }

    public OpenClDevice device() { return device; }

    /** A result and the device time of the kernels that made it (start to end, from profiling events). */
    public record Timed<T>(T value, long kernelNanos) {}

    /** S on the device: the buffers of its format, read-only for the kernels. Close it to free them. */
    public record DeviceMatrix(SparseMatrix matrix, List<Buffer> buffers) implements AutoCloseable {
        @Override
        public void close() { buffers.forEach(Buffer::close); }
    }

    /** Copies the arrays of S's format to the device. */
    public DeviceMatrix upload(SparseMatrix s) {
        List<Buffer> buffers = new ArrayList<>();
        try {
            switch (s) {
                case CsrMatrix c -> {
                    buffers.add(device.upload(c.rowPtr()));
                    buffers.add(device.upload(c.colIdx()));
                }
                case BsrMatrix b -> {
                    buffers.add(device.upload(b.blockRowPtr()));
                    buffers.add(device.upload(b.blockColIdx()));
                }
                case Sparse24Matrix t -> buffers.add(device.upload(t.indices()));
            }
            buffers.add(switch (s.values()) {
                case Values.Int8 v -> device.upload(v.data());
                case Values.Float32 v -> device.upload(v.data());
            });
            return new DeviceMatrix(s, List.copyOf(buffers));
        } catch (RuntimeException e) {
            buffers.forEach(Buffer::close);
            throw e;
        }
    }

    /**
     * Enqueues {@code y = S x b}: b holds B [K, N] row-major of S's element type; y receives [M, N] int32 (int8 S)
     * or float32. Returns the kernel's event (close it), or null when Y is empty and nothing ran.
     */
    public Event enqueue(DeviceMatrix s, Buffer b, int n, Buffer y) {
        SparseMatrix S = s.matrix();
        int m = S.rows(), k = S.cols();
        int elem = S.dtype().size();
        if (n < 0) throw new IllegalArgumentException("N must be >= 0, got " + n);
        if ((long) k * n * elem > b.size()) {
            throw new IllegalArgumentException("B buffer of " + b.size() + " bytes is smaller than [K=" + k + ", N=" + n
                    + "] " + S.dtype().numpyName());
        }
        if ((long) m * n * 4 > y.size()) {
            throw new IllegalArgumentException("Y buffer of " + y.size() + " bytes is smaller than [M=" + m + ", N=" + n + "] x 4 bytes");
        }
        if ((long) m * n == 0) return null;
        String suffix = S.dtype() == DType.INT8 ? "_i8" : "_f32";
        List<Buffer> bufs = s.buffers();
        String name;
        try (Kernel kernel = switch (S) {
            case CsrMatrix c -> kernel("spmm_csr" + suffix).setArgs(m, n, bufs.get(0), bufs.get(1), bufs.get(2), b, y);
            case BsrMatrix c -> kernel("spmm_bsr" + suffix).setArgs(m, k, n, c.blockRows(), c.blockCols(), bufs.get(0), bufs.get(1), bufs.get(2), b, y);
            case Sparse24Matrix c -> kernel("spmm_24" + suffix).setArgs(m, k, n, bufs.get(0), bufs.get(1), b, y);
        }) {
            name = kernel.name();
            long[] global = {(n + TILE - 1) / TILE, m};
            log.debug("launch {} M={} K={} N={} {} stored values, global {}x{}", name, m, k, n, S.storedValues(),
                    global[0], global[1]);
            return device.launch(kernel, global, null);
        }
    }

    /**
     * Enqueues the dequantize epilogue {@code y[m,n] = float(acc[m,n]) * rowScales[m] * bScale (+ bias[m])}:
     * S (the weight) is quantized per output channel (row m), B per tensor. {@code bias} may be null.
     */
    public Event enqueueDequantize(Buffer acc, int m, int n, Buffer rowScales, float bScale, Buffer bias, Buffer y) {
        if ((long) m * n == 0) return null;
        try (Kernel kernel = kernel("spmm_dequantize")) {
            kernel.setArgs(m, n, acc, rowScales, bScale, bias == null ? rowScales : bias, bias == null ? 0 : 1, y);
            return device.launch(kernel, new long[] {(long) m * n}, null);
        }
    }

    /**
     * A pruned linear layer's weight W [K, N] (row-major int8, zeros where pruned) on the device for
     * {@link #enqueueLinear}: stored transposed, S = W^T [N, K], in the form {@code format} names: CSR, 2:4, or BSR in
     * the block-sparse kernel's blocks ({@link BsrLinear#layout}). The transpose happens here, once per weight, never
     * per call.
     *
     * @param format 2:4 needs W to have at most 2 non-zeros in every group of 4 along K
     */
    public DeviceMatrix uploadLinearWeight(byte[] weight, int k, int n, SparseFormat format) {
        if (format.kind() == SparseFormat.Kind.BSR) return new BsrLinear(device).upload(BsrLinear.layout(weight, k, n, format));
        if ((long) k * n != weight.length) {
            throw new IllegalArgumentException("linear weight [K=" + k + ", N=" + n + "] needs " + (long) k * n + " values, got " + weight.length);
        }
        byte[] t = new byte[weight.length];
        for (int kk = 0; kk < k; kk++) for (int j = 0; j < n; j++) t[j * k + kk] = weight[kk * n + j];
        DenseMatrix wt = DenseMatrix.ofInt8(n, k, t);
        return upload(format.kind() == SparseFormat.Kind.TWO_FOUR ? Sparse24Matrix.fromDense(wt) : CsrMatrix.fromDense(wt));
    }

    /** A quantized activation [rows, K] on the device: uint8 or int8 data; scale and zero point per tensor or per row. */
    public record Activations(Buffer data, boolean unsigned, int rows, Buffer scales, Buffer zeroPoints, boolean perRow) {}

    /**
     * Enqueues y = act((a - za) W * (sa * weightScales[n]) + bias[n]) without waiting (kernels {@code sparse_linear_*},
     * or {@link BsrLinear}'s for a BSR weight): the graph's sparse linear layer, token-major, every operand already on
     * the device.
     *
     * @param w            from {@link #uploadLinearWeight}
     * @param weightScales N floats; {@code bias} N floats or null
     * @param y            rows * N floats
     */
    public void enqueueLinear(DeviceMatrix w, Activations a, Buffer weightScales, Buffer bias,
                              dev.offload.ops.gemm.Activation activation, Buffer y, KernelLauncher launcher) {
        SparseMatrix s = w.matrix();
        if (s instanceof BsrMatrix) {
            new BsrLinear(device).enqueue(w, a, weightScales, bias, activation, y, launcher);
            return;
        }
        int n = s.rows(), k = s.cols(), t = a.rows();
        if (s.dtype() != DType.INT8) throw new IllegalArgumentException("a sparse linear weight must be int8, got " + s.dtype().numpyName());
        if (a.data().size() < (long) t * k) throw new IllegalArgumentException("activations of " + a.data().size() + " bytes, [" + t + ", " + k + "] needs " + (long) t * k);
        if (y.size() < 4L * t * n) throw new IllegalArgumentException("output of " + y.size() + " bytes, [" + t + ", " + n + "] floats needs " + 4L * t * n);
        if (activation == dev.offload.ops.gemm.Activation.GELU_ERF_ONNX) {
            throw new IllegalArgumentException("spmm.cl has no " + activation + " epilogue (ONNX Runtime's GELU is for dense int8"
                    + " linears of imported models); use GELU_ERF for a sparse linear layer");
        }
        List<Buffer> bufs = w.buffers();
        String name = switch (s) {
            case CsrMatrix c -> "sparse_linear_csr";
            case Sparse24Matrix c -> "sparse_linear_24";
            case BsrMatrix c -> throw new IllegalStateException("unreachable: BSR runs in BsrLinear");
        };
        try (Kernel kernel = kernel(name)) {
            // The weight's own buffers (CSR: row pointers, columns, values; 2:4: indices, values), then SL_PARAMS.
            kernel.setArgs(bufs, t, k, n, a.data(), a.unsigned() ? 0 : 0x80, a.unsigned() ? 0 : 128,
                    a.scales(), a.zeroPoints(), a.perRow() ? 1 : 0,
                    weightScales, bias != null ? bias : weightScales, bias != null ? 1 : 0, activation.ordinal(), y);
            launcher.launch(kernel, new long[] {n, (t + LINEAR_TOKENS - 1) / LINEAR_TOKENS}, null);
        }
    }

    /** Tokens one work-item of sparse_linear_* computes (SL_TB in spmm.cl). */
    static final int LINEAR_TOKENS = 4;

    private Kernel kernel(String name) {
        return device.program(KernelFamily.SPMM, buildOptions()).kernel(name);
    }

    /** int8 S times int8 B [K, N] into int32 Y [M, N] (wrapping like Java's int). */
    public Timed<int[]> multiplyInt8(SparseMatrix s, byte[] b, int n) {
        SpmmReference.checkShapes(s, b.length, n);
        requireType(s, DType.INT8);
        int count = Math.multiplyExact(s.rows(), n);
        try (DeviceMatrix ds = upload(s); Buffer bb = device.upload(b); Buffer y = output(count)) {
            long nanos = run(enqueue(ds, bb, n, y));
            return new Timed<>(count == 0 ? new int[0] : device.readInts(y, count), nanos);
        }
    }

    /** float32 S times float32 B [K, N] into float32 Y [M, N]. */
    public Timed<float[]> multiplyFloat32(SparseMatrix s, float[] b, int n) {
        SpmmReference.checkShapes(s, b.length, n);
        requireType(s, DType.FLOAT32);
        int count = Math.multiplyExact(s.rows(), n);
        try (DeviceMatrix ds = upload(s); Buffer bb = device.upload(b); Buffer y = output(count)) {
            long nanos = run(enqueue(ds, bb, n, y));
            return new Timed<>(count == 0 ? new float[0] : device.readFloats(y, count), nanos);
        }
    }

    /**
     * int8 S times int8 B, then the dequantize epilogue (see {@link SpmmReference#dequantize}): float32 Y [M, N].
     * The time covers both kernels.
     */
    public Timed<float[]> multiplyDequantized(SparseMatrix s, byte[] b, int n, float[] rowScales, float bScale,
                                              float[] bias) {
        SpmmReference.checkShapes(s, b.length, n);
        requireType(s, DType.INT8);
        checkEpilogue(s.rows(), rowScales, bias);
        int count = Math.multiplyExact(s.rows(), n);
        try (DeviceMatrix ds = upload(s); Buffer bb = device.upload(b); Buffer acc = output(count);
             Buffer scales = device.upload(rowScales); Buffer bbias = bias == null ? null : device.upload(bias);
             Buffer y = output(count)) {
            long nanos = run(enqueue(ds, bb, n, acc));
            nanos += run(enqueueDequantize(acc, s.rows(), n, scales, bScale, bbias, y));
            return new Timed<>(count == 0 ? new float[0] : device.readFloats(y, count), nanos);
        }
    }

    private Buffer output(int count) { return device.context().createBuffer(Math.max(4L, 4L * count)); }

    /** Waits for a kernel and returns its device time (0 for a launch that was skipped). */
    private static long run(Event e) {
        if (e == null) return 0;
        try (e) { return e.times().deviceNanos(); }
    }

    private static void requireType(SparseMatrix s, DType t) {
        if (s.dtype() != t) {
            throw new IllegalArgumentException("S holds " + s.dtype().numpyName() + " values; this multiply needs " + t.numpyName());
        }
    }

    static void checkEpilogue(int m, float[] rowScales, float[] bias) {
        if (rowScales == null || rowScales.length != m) {
            throw new IllegalArgumentException("dequantize needs one scale per row of S (M = " + m + "), got "
                    + (rowScales == null ? "none" : rowScales.length));
        }
        if (bias != null && bias.length != m) {
            throw new IllegalArgumentException("dequantize bias must have one value per row of S (M = " + m + "), got " + bias.length);
        }
    }
}
