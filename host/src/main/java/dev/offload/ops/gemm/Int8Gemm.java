package dev.offload.ops.gemm;

import dev.offload.cl.Buffer;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.KernelStyle;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.quant.QuantType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INT8 GEMM on an OpenCL device, judged by {@link Int8GemmReference}: the direct kernels of {@code int8_gemm.cl}
 * ({@link DirectGemmConfig}) or the local-memory tiled kernel of {@code int8_gemm_tiled.cl} ({@link TiledGemmConfig}).
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
        if (config instanceof TiledGemmConfig && device.kernelStyle() == KernelStyle.FPGA) {
            throw new IllegalArgumentException("the tiled GEMM (" + config.describe() + ") stages tiles in local memory across a"
                    + " work-group, which " + device.spec() + "'s FPGA kernel style (single work-item kernels) has not got;"
                    + " use GemmConfig.forDevice(info, KernelStyle.FPGA)");
        }
        if (config.panels() && device.kernelStyle() == KernelStyle.FPGA) {
            throw new IllegalArgumentException("the VNNI/AMX panel GEMM (" + config.describe() + ") uses x86 built-ins, which "
                    + device.spec() + "'s FPGA kernel style turns off; use GemmConfig.forDevice(info, KernelStyle.FPGA)");
        }
        // Checked before any AMX program is built: it also asks Linux for the tile state, without which the kernel dies of SIGILL.
        if (config.innerLoop() == GemmConfig.InnerLoop.X86_AMX && !config.runsOn(device.info())) {
            throw new IllegalArgumentException("the AMX GEMM (" + config.describe() + ") needs PoCL on a CPU with amx_tile and amx_int8"
                    + " and Linux's permission for the tile state; " + device.spec() + " has not got them");
        }
        if (announce && reported.add(device.device().stableId() + "|" + config)) {
            log.info("int8 GEMM on {}: {}", device.info().name(), config.describe());
        }
    }

    /**
     * The GEMM with the device's configuration: tuned (user cache), else from the repository's tuning database,
     * else {@link GemmConfig#forDevice} ({@link GemmConfig#resolve}), resolved once per device
     * ({@link DeviceGemmConfigs#standard()}).
     */
    public static Int8Gemm on(OpenClDevice device) { return on(device, DeviceGemmConfigs.standard()); }

    /** The GEMM with the device's configuration from {@code configs}. */
    public static Int8Gemm on(OpenClDevice device, DeviceGemmConfigs configs) {
        if (device.kernelStyle() == KernelStyle.FPGA) {
            // Tuned entries are for the portable style (they may use x86 built-ins): FPGA style has its own defaults.
            return new Int8Gemm(device, DirectGemmConfig.forDevice(device.info(), KernelStyle.FPGA));
        }
        return new Int8Gemm(device, configs.choice(device).config());
    }

    /**
     * The build options of the program a product with {@code rows} rows of A and this epilogue uses (before the
     * device's style define): the configuration's defines (the direct family shrinks its row block to {@code rows}
     * when A has fewer rows) and the epilogue.
     */
    public static String buildOptions(GemmConfig config, int rows, Epilogue epilogue) {
        return config.defines(rows) + " " + epilogue.defines();
    }

    /**
     * Every option string {@link #run} can ask for with this configuration: its defines (direct: row blocks 1..mr) times each epilogue
     * kind (int32; requantize; dequantize with and without bias, times every {@link Activation}). This is what
     * {@code bitstreams build} prebuilds.
     */
    public static List<String> allBuildOptions(GemmConfig config) {
        List<Epilogue> epilogues = new ArrayList<>();
        epilogues.add(Epilogue.INT32);
        for (boolean bias : new boolean[] {false, true}) {
            for (Activation a : Activation.values()) {
                epilogues.add(new Epilogue.Dequantize(new float[] {1}, new float[] {1}, bias ? new float[] {0} : null, a));
            }
        }
        epilogues.add(Epilogue.Requantize.of(1, 0, QuantType.INT8));
        Set<String> out = new java.util.LinkedHashSet<>();
        for (String defines : config.allDefines()) {
            for (Epilogue e : epilogues) out.add(defines + " " + e.defines());
        }
        return List.copyOf(out);
    }

    public GemmConfig config() { return config; }

    public OpenClDevice device() { return device; }

    /**
     * Packs B (shape [K][N]) with its zero point (scalar or per column) into device memory, once: transposed
     * ([nPadded][stride], the direct family's default and the tiled family) or in VNNI/AMX panels.
     */
    public PackedWeights pack(Int8Matrix b, ZeroPoint zb) {
        zb.checkForB(b.cols());
        int k = b.rows(), n = b.cols();
        int nPadded = (n + config.columnMultiple() - 1) / config.columnMultiple() * config.columnMultiple();
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
        try (BoundGemm call = bind(a, aType, m, za, w, epilogue, out)) {
            return call.run();
        }
    }

    /**
     * {@link #run}'s call made once for repeated runs: A's zero points and the epilogue's vectors uploaded, the
     * row-sum scratch allocated and the kernels' arguments set here, so each {@link BoundGemm#run} only launches and
     * waits once. The buffers passed in must outlive the returned call.
     */
    public BoundGemm bind(Buffer a, QuantType aType, int m, ZeroPoint za, PackedWeights w, Epilogue epilogue, Buffer out) {
        checkWeights(w);
        if (m < 1) throw new IllegalArgumentException("A must have at least one row, got " + m);
        int k = w.k(), n = w.n();
        requireBytes("A", a, (long) m * k, m + "x" + k);
        long outBytes = (long) m * n * (epilogue instanceof Epilogue.Requantize ? 1 : 4);
        requireBytes("output", out, outBytes, m + "x" + n);
        za.checkForA(m);
        epilogue.check(m, n);
        int shift = aType == QuantType.UINT8 ? 128 : 0;
        int[] zaEffective = new int[m];
        for (int i = 0; i < m; i++) zaEffective[i] = za.at(i, 0) - shift;

        List<Buffer> temporaries = new ArrayList<>();
        List<BoundGemm.Launch> launches = new ArrayList<>();
        try {
            Buffer zaBuffer = keep(temporaries, device.upload(zaEffective));
            Buffer rowSums = w.needsRowSums() ? keep(temporaries, device.context().createBuffer(4L * m)) : null;
            Program program = program(m, epilogue);
            List<Object> epilogueArgs = switch (epilogue) {
                case Epilogue.Int32 ignored -> List.of();
                case Epilogue.Dequantize d -> List.of(keep(temporaries, device.upload(Epilogue.expand(d.activationScale(), m))), 1,
                        keep(temporaries, device.upload(Epilogue.expand(d.weightScale(), n))),
                        d.bias() != null ? keep(temporaries, device.upload(d.bias())) : zaBuffer);
                case Epilogue.Requantize r -> List.of(keep(temporaries, device.upload(Epilogue.expand(r.scale(), n))),
                        r.zeroPoint(), r.type().min(), r.type().max());
            };
            launch(program, a, aType, m, zaBuffer, 1, 0, w, rowSums, out, (kernel, global, local) -> launches.add(new BoundGemm.Launch(kernel, global, local)),
                    epilogueArgs);
            return new BoundGemm(device, launches, temporaries, List.of(a, out, w.packed(), w.zeroPoints(), w.columnSums()));
        } catch (RuntimeException e) {
            launches.forEach(l -> l.kernel().close());
            temporaries.forEach(Buffer::close);
            throw e;
        }
    }

    /**
     * A quantized activation as a quantize kernel leaves it on the device: data [rows][K], and float scales and
     * int zero points for the whole tensor ([1], {@code perRow} false) or one per row ([rows]).
     */
    public record DeviceActivation(Buffer data, QuantType type, int rows, Buffer scales, Buffer zeroPoints, boolean perRow) {}

    /**
     * Enqueues y = activation((A - za)(B - zb) * (sa * weightScales[n]) + bias[n]) without waiting and without
     * touching the host: A's scales and zero points are read from device buffers (the graph runtime's linear
     * layers, fed by a quantize node). The device's in-order queue orders the kernels.
     *
     * @param weightScales N floats on the device
     * @param bias         N floats, or null
     * @param rowSums      scratch for 4 * rows bytes, needed when {@link PackedWeights#needsRowSums()}, else null
     * @param out          rows * N floats
     */
    public void enqueueDequantize(DeviceActivation a, PackedWeights w, Buffer weightScales, Buffer bias, Activation activation,
                                  Buffer out, Buffer rowSums, KernelLauncher launcher) {
        checkDequantize(a, w, weightScales, bias, out, rowSums);
        int m = a.rows(), n = w.n();
        Program program = program(m, dequantizeShape(n, bias, activation));
        int stride = a.perRow() ? 1 : 0;
        launch(program, a.data(), a.type(), m, a.zeroPoints(), stride, a.type() == QuantType.UINT8 ? 128 : 0, w, rowSums, out,
                launching(launcher), List.of(a.scales(), stride, weightScales, bias != null ? bias : weightScales));
    }

    private void checkDequantize(DeviceActivation a, PackedWeights w, Buffer weightScales, Buffer bias, Buffer out, Buffer rowSums) {
        checkWeights(w);
        int m = a.rows(), n = w.n();
        if (m < 1) throw new IllegalArgumentException("A must have at least one row, got " + m);
        requireBytes("A", a.data(), (long) m * w.k(), m + "x" + w.k());
        requireBytes("output", out, 4L * m * n, m + "x" + n);
        requireBytes("weight scales", weightScales, 4L * n, "N=" + n);
        requireBytes("A scales", a.scales(), a.perRow() ? 4L * m : 4, a.perRow() ? "one per row" : "one");
        requireBytes("A zero points", a.zeroPoints(), a.perRow() ? 4L * m : 4, a.perRow() ? "one per row" : "one");
        if (bias != null) requireBytes("bias", bias, 4L * n, "N=" + n);
        if (w.needsRowSums() && (rowSums == null || rowSums.size() < 4L * m)) {
            throw new IllegalArgumentException("these weights have non-zero zero points: pass a row-sum scratch buffer of " + 4L * m + " bytes");
        }
    }

    /** The dequantize epilogue's build shape (the values do not matter, only bias or none and the activation). */
    private static Epilogue.Dequantize dequantizeShape(int n, Buffer bias, Activation activation) {
        return new Epilogue.Dequantize(new float[1], new float[1], bias == null ? null : new float[n], activation);
    }

    /** One weight of {@link #enqueueDequantizeGroup}: packed B, its N scales, N biases (or null) and its rows * N output. */
    public record GroupPart(PackedWeights weights, Buffer weightScales, Buffer bias, Buffer out) {}

    /**
     * Whether this configuration runs {@link #enqueueDequantizeGroup} in one launch: the VNNI panel kernel has a group
     * form (int8_gemm_panels_group); the other families launch the parts one after another.
     */
    public boolean groupsInOneLaunch() {
        return config instanceof DirectGemmConfig d && d.innerLoop() == GemmConfig.InnerLoop.X86_VNNI;
    }

    /**
     * {@link #enqueueDequantize} of two or three weights that read the same A (an encoder layer's Q, K and V), in one
     * launch where the configuration allows ({@link #groupsInOneLaunch}), else one after another; either way each
     * output is the bits {@link #enqueueDequantize} gives it alone. The parts share K, the activation and having a bias
     * or not. {@code rowSums} is needed when any part's weights have zero points.
     */
    public void enqueueDequantizeGroup(DeviceActivation a, List<GroupPart> parts, Activation activation, Buffer rowSums, KernelLauncher launcher) {
        if (parts.size() < 2 || parts.size() > 3) throw new IllegalArgumentException("a GEMM group has 2 or 3 parts, got " + parts.size());
        GroupPart first = parts.getFirst();
        for (GroupPart p : parts) {
            if (p.weights().k() != first.weights().k() || (p.bias() == null) != (first.bias() == null)) {
                throw new IllegalArgumentException("a GEMM group's parts share K and all have a bias or none");
            }
            checkDequantize(a, p.weights(), p.weightScales(), p.bias(), p.out(), rowSums);
        }
        if (!groupsInOneLaunch()) {
            for (GroupPart p : parts) enqueueDequantize(a, p.weights(), p.weightScales(), p.bias(), activation, p.out(), rowSums, launcher);
            return;
        }
        DirectGemmConfig direct = (DirectGemmConfig) config;
        int m = a.rows(), k = first.weights().k();
        Program program = program(m, dequantizeShape(first.weights().n(), first.bias(), activation));
        int flip = a.type() == QuantType.UINT8 ? 0x80 : 0;
        boolean anyRowSums = parts.stream().anyMatch(p -> p.weights().needsRowSums());
        if (anyRowSums) {
            try (Kernel sums = program.kernel("int8_gemm_row_sums")) {
                sums.setArgs(a.data(), k, flip, m, k, rowSums);
                launcher.launch(sums, new long[] {m}, null);
            }
        }
        int stride = a.perRow() ? 1 : 0;
        long[] blocks = new long[3];
        List<Object> partArgs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            // A two-part group repeats its first part's buffers as the absent third, with N = 0 (never read).
            GroupPart p = i < parts.size() ? parts.get(i) : first;
            PackedWeights w = p.weights();
            blocks[i] = i < parts.size() ? w.nPadded() / direct.nr() : 0;
            partArgs.addAll(List.of(w.packed(), w.zeroPoints(), w.columnSums(), w.needsRowSums() ? 1 : 0, i < parts.size() ? w.n() : 0,
                    p.weightScales(), p.bias() != null ? p.bias() : p.weightScales(), p.out()));
        }
        try (Kernel gemm = program.kernel("int8_gemm_panels_group")) {
            gemm.setArgs(a.data(), k, flip, a.zeroPoints(), stride, a.type() == QuantType.UINT8 ? 128 : 0, first.weights().stride(),
                    anyRowSums ? rowSums : a.zeroPoints(), m, k, a.scales(), stride, (int) blocks[0], (int) blocks[1], partArgs);
            long[][] sizes = directSizes(direct, m, blocks[0] + blocks[1] + blocks[2]);
            launcher.launch(gemm, sizes[0], sizes[1]);
        }
    }

    /** Fewer rows than the register block (decode, M=1): a smaller block instead of computing clamped copies. */
    private Program program(int m, Epilogue epilogue) {
        return device.program(config.family(), buildOptions(config, m, epilogue));
    }

    /** Takes a kernel whose arguments are set, with the sizes to launch it with, and owns it from then on. */
    private interface KernelSink {
        void take(Kernel kernel, long[] global, long[] local);
    }

    /** A sink that launches each kernel at once through {@code launcher} and closes it (OpenCL keeps it for the launch). */
    private static KernelSink launching(KernelLauncher launcher) {
        return (kernel, global, local) -> {
            try (kernel) {
                launcher.launch(kernel, global, local);
            }
        };
    }

    /** The row-sum kernel (when B has zero points) and the GEMM, with their arguments set, handed to {@code sink} in order. */
    private void launch(Program program, Buffer a, QuantType aType, int m, Buffer za, int zaStride, int zaShift, PackedWeights w,
                        Buffer rowSums, Buffer out, KernelSink sink, List<Object> epilogueArgs) {
        int k = w.k(), n = w.n();
        int flip = aType == QuantType.UINT8 ? 0x80 : 0;
        if (w.needsRowSums()) {
            Kernel sums = program.kernel("int8_gemm_row_sums");
            try {
                sums.setArgs(a, k, flip, m, k, rowSums);
            } catch (RuntimeException e) {
                sums.close();
                throw e;
            }
            sink.take(sums, new long[] {m}, null);
        }
        Kernel gemm = program.kernel(config.kernelName());
        long[][] sizes;
        try {
            gemm.setArgs(a, k, flip, za, zaStride, zaShift, w.packed(), w.stride(), w.zeroPoints(), w.columnSums(),
                    w.needsRowSums() ? rowSums : za, w.needsRowSums() ? 1 : 0, m, n, k, epilogueArgs, out);
            sizes = switch (config) {
                case TiledGemmConfig t -> new long[][] {t.globalSize(m, w.nPadded()), t.localSize()};
                case DirectGemmConfig d -> directSizes(d, m, w.nPadded() / d.nr());
            };
        } catch (RuntimeException e) {
            gemm.close();
            throw e;
        }
        sink.take(gemm, sizes[0], sizes[1]);
    }

    /**
     * The global and local sizes of a direct launch (local null: the driver's choice): one work-item per register
     * block, work-groups along N of the configured size, shrunk where the shape is small.
     */
    private static long[][] directSizes(DirectGemmConfig config, int m, long columnsOfBlocks) {
        int mr = config.rowBlock(m);
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
        return new long[][] {{columnsOfBlocks, rowsOfBlocks}, local};
    }

    private void checkWeights(PackedWeights w) {
        if (w.config().columnMultiple() != config.columnMultiple() || w.config().panels() != config.panels()
                || w.stride() != config.packedStride(w.k())) {
            throw new IllegalArgumentException("weights were packed for " + w.config().describe() + ", this GEMM uses " + config.describe());
        }
    }

    private static void requireBytes(String what, Buffer b, long bytes, String shape) {
        if (b.size() < bytes) throw new IllegalArgumentException(what + " buffer has " + b.size() + " bytes, " + shape + " needs " + bytes);
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
