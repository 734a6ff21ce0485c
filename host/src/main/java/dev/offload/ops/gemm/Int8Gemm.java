package dev.offload.ops.gemm;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.quant.QuantType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INT8 GEMM on an OpenCL device (kernel {@code int8_gemm.cl}, judged by {@link Int8GemmReference}).
 *
 * <pre>{@code
 * Int8Gemm gemm = Int8Gemm.on(device);
 * try (PackedWeights w = gemm.pack(b, ZeroPoint.scalar(0))) {          // once per weight matrix
 *     int[] c = gemm.matmulInteger(a, ZeroPoint.scalar(128), w);       // per call
 * }
 * }</pre>
 * Thread-safe: every call creates its own kernel objects from the device's cached program.
 */
public final class Int8Gemm {
    private static final Logger log = LoggerFactory.getLogger(Int8Gemm.class);
    private static final Set<String> reported = ConcurrentHashMap.newKeySet();
    /** Work-groups a launch should have at least (when the shape allows) to balance across compute units. */
    private static final int MIN_WORK_GROUPS = 64;

    private final OpenClDevice device;
    private final GemmConfig config;

    public Int8Gemm(OpenClDevice device, GemmConfig config) { this(device, config, true); }

    /** @param announce whether to log the configuration (once per device and configuration); the tuner tries dozens */
    Int8Gemm(OpenClDevice device, GemmConfig config, boolean announce) {
        this.device = device;
        this.config = config;
        if (announce && reported.add(device.device().stableId() + "|" + config)) {
            log.info("int8 GEMM on {}: {}", device.info().name(), config.describe());
        }
    }

    /**
     * The GEMM with the device's configuration: tuned (user cache), else from the repository's tuning database,
     * else {@link GemmConfig#forDevice} ({@link GemmConfig#resolve}).
     */
    public static Int8Gemm on(OpenClDevice device) {
        GemmConfig.Choice choice = GemmConfig.resolve(device.info());
        if (reported.add(device.device().stableId() + "|source|" + choice)) {
            log.info("int8 GEMM configuration on {} from {} ({})", device.info().name(), choice.source().label(), choice.origin());
        }
        return new Int8Gemm(device, choice.config());
    }

    public GemmConfig config() { return config; }

    public OpenClDevice device() { return device; }

    /** Packs B (shape [K][N]) with its zero point (scalar or per column) into device memory, once. */
    public PackedWeights pack(Int8Matrix b, ZeroPoint zb) {
        zb.checkForB(b.cols());
        int k = b.rows(), n = b.cols();
        int nPadded = (n + config.nr() - 1) / config.nr() * config.nr();
        int stride = config.packedStride(k);
        long bytes = config.panels() ? (long) (nPadded / 16) * stride : (long) nPadded * stride;
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("B " + b.shape() + " is too large to pack (over 2 GiB)");
        }
        int flip = b.type() == QuantType.UINT8 ? 0x80 : 0;
        int shift = b.type() == QuantType.UINT8 ? 128 : 0;
        byte[] packed = new byte[(int) bytes];
        int[] columnSums = new int[nPadded];
        int[] zeroPoints = new int[nPadded];
        byte[] data = b.data();
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                byte v = (byte) (data[p * n + j] ^ flip);
                if (config.panels()) {
                    // panel j/16, group p/4, column j%16, byte p%4
                    packed[(j / 16) * stride + (p / 4) * 64 + (j % 16) * 4 + p % 4] = v;
                } else {
                    packed[j * stride + p] = v;
                }
                columnSums[j] += v;
            }
        }
        boolean needsRowSums = false;
        for (int j = 0; j < n; j++) {
            zeroPoints[j] = zb.at(0, j) - shift;
            needsRowSums |= zeroPoints[j] != 0;
        }
        List<Buffer> made = new ArrayList<>();
        try {
            return new PackedWeights(keep(made, device.upload(packed)), keep(made, device.upload(zeroPoints)),
                    keep(made, device.upload(columnSums)), b.type(), k, n,
                    nPadded, stride, needsRowSums, config);
        } catch (RuntimeException e) {
            made.forEach(Buffer::close);
            throw e;
        }
    }

    /**
     * Runs C = (A - za)(B - zb) with the epilogue, writing into a caller-provided buffer; blocks until done.
     *
     * @param a   A as row-major [m][K] bytes on the device
     * @param out m*N int32 or float32 values, or m*N bytes for {@link Epilogue.Requantize}
     * @return device time in nanoseconds (from the profiling events of the launched kernels)
     */
    public long run(Buffer a, QuantType aType, int m, ZeroPoint za, PackedWeights w, Epilogue epilogue, Buffer out) {
        if (w.config().nr() != config.nr() || w.config().panels() != config.panels()) {
            throw new IllegalArgumentException("weights were packed for " + w.config().describe() + ", this GEMM uses " + config.describe());
        }
        if (m < 1) throw new IllegalArgumentException("A must have at least one row, got " + m);
        int k = w.k(), n = w.n();
        if (a.size() < (long) m * k) {
            throw new IllegalArgumentException("A buffer has " + a.size() + " bytes, " + m + "x" + k + " needs " + (long) m * k);
        }
        long outBytes = (long) m * n * (epilogue instanceof Epilogue.Requantize ? 1 : 4);
        if (out.size() < outBytes) {
            throw new IllegalArgumentException("output buffer has " + out.size() + " bytes, " + m + "x" + n + " needs " + outBytes);
        }
        za.checkForA(m);
        epilogue.check(m, n);
        int shift = aType == QuantType.UINT8 ? 128 : 0;
        int[] zaEffective = new int[m];
        for (int i = 0; i < m; i++) zaEffective[i] = za.at(i, 0) - shift;
        int flip = aType == QuantType.UINT8 ? 0x80 : 0;

        // Fewer rows than the register block (decode, M=1): a smaller block instead of computing clamped copies.
        int mr = Math.min(config.mr(), m);
        Program program = device.program(KernelFamily.INT8_GEMM, config.defines(mr) + " " + epilogue.defines());
        List<Buffer> temporaries = new ArrayList<>();
        try (Kernel gemm = program.kernel(config.kernelName())) {
            Buffer zaBuffer = keep(temporaries, device.upload(zaEffective));
            long nanos = 0;
            Buffer rowSums = zaBuffer; // not read unless needsRowSums
            if (w.needsRowSums()) {
                rowSums = keep(temporaries, device.context().createBuffer(4L * m));
                try (Kernel sums = program.kernel("int8_gemm_row_sums")) {
                    sums.arg(0, a).arg(1, k).arg(2, flip).arg(3, m).arg(4, k).arg(5, rowSums);
                    try (Event e = device.queue().launch(sums, new long[] {m}, null)) {
                        nanos += e.times().deviceNanos();
                    }
                }
            }
            int i = 0;
            gemm.arg(i++, a).arg(i++, k).arg(i++, flip).arg(i++, zaBuffer)
                    .arg(i++, w.packed()).arg(i++, w.stride()).arg(i++, w.zeroPoints()).arg(i++, w.columnSums())
                    .arg(i++, rowSums).arg(i++, w.needsRowSums() ? 1 : 0)
                    .arg(i++, m).arg(i++, n).arg(i++, k);
            switch (epilogue) {
                case Epilogue.Int32 ignored -> { }
                case Epilogue.Dequantize d -> {
                    gemm.arg(i++, keep(temporaries, device.upload(Epilogue.expand(d.activationScale(), m))));
                    gemm.arg(i++, keep(temporaries, device.upload(Epilogue.expand(d.weightScale(), n))));
                    gemm.arg(i++, d.bias() != null ? keep(temporaries, device.upload(d.bias())) : zaBuffer);
                }
                case Epilogue.Requantize r -> {
                    gemm.arg(i++, keep(temporaries, device.upload(Epilogue.expand(r.scale(), n))));
                    gemm.arg(i++, r.zeroPoint()).arg(i++, r.type().min()).arg(i++, r.type().max());
                }
            }
            gemm.arg(i, out);
            long columnsOfBlocks = w.nPadded() / config.nr();
            long rowsOfBlocks = (m + mr - 1) / mr;
            long[] local = null;
            if (config.localColumns() > 0) {
                long lc = config.localColumns();
                // Few rows of blocks: smaller work-groups, so there are enough of them to share among the cores.
                while (lc > 8 && (columnsOfBlocks + lc - 1) / lc * rowsOfBlocks < MIN_WORK_GROUPS) lc /= 2;
                while (lc > 1 && lc >= 2 * columnsOfBlocks) lc /= 2; // narrow B: no idle padding work-items
                columnsOfBlocks = (columnsOfBlocks + lc - 1) / lc * lc;
                local = new long[] {lc, 1};
            }
            try (Event e = device.queue().launch(gemm, new long[] {columnsOfBlocks, rowsOfBlocks}, local)) {
                nanos += e.times().deviceNanos();
            }
            return nanos;
        } finally {
            temporaries.forEach(Buffer::close);
        }
    }

    private static Buffer keep(List<Buffer> owned, Buffer b) {
        owned.add(b);
        return b;
    }

    /** Array convenience: ONNX MatMulInteger, int32 out. */
    public int[] matmulInteger(Int8Matrix a, ZeroPoint za, PackedWeights w) {
        checkK(a, w);
        try (Buffer ab = device.upload(a.data()); Buffer out = device.context().createBuffer(4L * a.rows() * w.n())) {
            run(ab, a.type(), a.rows(), za, w, Epilogue.INT32, out);
            return device.readInts(out, a.rows() * w.n());
        }
    }

    /** Array convenience: the dequantizing GEMM, float32 out. */
    public float[] dequantize(Int8Matrix a, ZeroPoint za, PackedWeights w, Epilogue.Dequantize d) {
        checkK(a, w);
        try (Buffer ab = device.upload(a.data()); Buffer out = device.context().createBuffer(4L * a.rows() * w.n())) {
            run(ab, a.type(), a.rows(), za, w, d, out);
            return device.readFloats(out, a.rows() * w.n());
        }
    }

    /** Array convenience: the requantizing GEMM, int8/uint8 out (as stored bytes). */
    public byte[] requantize(Int8Matrix a, ZeroPoint za, PackedWeights w, Epilogue.Requantize r) {
        checkK(a, w);
        try (Buffer ab = device.upload(a.data()); Buffer out = device.context().createBuffer((long) a.rows() * w.n())) {
            run(ab, a.type(), a.rows(), za, w, r, out);
            return device.readBytes(out, a.rows() * w.n());
        }
    }

    private static void checkK(Int8Matrix a, PackedWeights w) {
        if (a.cols() != w.k()) {
            throw new IllegalArgumentException("A is " + a.shape() + " but the packed B has K=" + w.k());
        }
    }
}
