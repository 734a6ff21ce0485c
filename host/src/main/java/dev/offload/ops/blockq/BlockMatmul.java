package dev.offload.ops.blockq;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.KernelLauncher;
import dev.offload.device.KernelStyle;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.gemm.GemmConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The block-quantized linear on an OpenCL device (kernels {@code blockq.cl}, judged by {@link BlockLinearReference}
 * within {@link BlockLinearBound}). A weight is uploaded once ({@link #upload}: ggml's blocks, rearranged on the
 * device into the kernel's layout of the same size); each call quantizes nothing itself: it reads the int8 x and
 * its per-block scales a quantize kernel left on the device.
 *
 * <p>Two forms from one kernel, chosen by the number of rows of x ({@link Tile#forRows}): decode (1..4 rows:
 * memory-bound, one work-item streams 64 weight rows once for all rows of x) and prefill (more rows: 8 rows of x
 * times 32 weight rows a work-item, work-groups along the rows of x so that a weight tile is read from memory once
 * per work-group). On PoCL with Intel AMX (where the dense int8 GEMM uses it), a Q8_0 / Q4_0 prefill of 16 rows or
 * more runs the panels on AMX tiles instead ({@link Tile#forRows(int, BlockFormat, boolean)}, amx_blockq.clh), with
 * the same floats as the VNNI kernel.
 * Q4_K and Q6_K are rearranged into panels of 16 rows too (blockq.cl, "K-quants"; the same byte count), so their
 * decode streams each panel once with 16 rows to a vector, as Q4_0's does.
 * Thread-safe: kernels are created per call from the device's cached programs.
 */
public final class BlockMatmul {
    /** Work-groups a launch should have at least (when the shape allows), so the cores share the work evenly. */
    private static final int MIN_WORK_GROUPS = 32;
    /** Weight rows past the last whole panel that one work-item takes (NT in blockq.cl). */
    private static final int TAIL_ROWS = 4;

    private final OpenClDevice device;
    private final GpuMatvec gpuMatvec;
    private final boolean allowAmx;
    /** blockq.cl's PREFETCH_BLOCKS for the decode tiles ({@link #decodePrefetchBlocks}, resolved once). */
    private final int prefetchBlocks;

    /** With the device type's decode kernel ({@link GpuMatvec#forDevice}: the GPU-shaped one on GPUs) and AMX prefill where it runs. */
    public BlockMatmul(OpenClDevice device) { this(device, GpuMatvec.forDevice(device.info()), true); }

    /** With an explicit choice of the GPU decode kernel (null: blockq_linear for every M), e.g. forced on PoCL in tests. */
    public BlockMatmul(OpenClDevice device, GpuMatvec gpuMatvec) { this(device, gpuMatvec, true); }

    /**
     * @param allowAmx false: the prefill stays on VNNI even where the device runs AMX tiles (for the tests and
     *                 benches that set one path against the other)
     */
    public BlockMatmul(OpenClDevice device, boolean allowAmx) { this(device, GpuMatvec.forDevice(device.info()), allowAmx); }

    private BlockMatmul(OpenClDevice device, GpuMatvec gpuMatvec, boolean allowAmx) {
        this(device, gpuMatvec, allowAmx, decodePrefetchBlocks(device.info()));
    }

    private BlockMatmul(OpenClDevice device, GpuMatvec gpuMatvec, boolean allowAmx, int prefetchBlocks) {
        this.device = device;
        this.gpuMatvec = gpuMatvec;
        this.allowAmx = allowAmx;
        this.prefetchBlocks = prefetchBlocks;
    }

    /** This one with the decode tiles prefetching {@code blocks} blocks ahead (0: not at all), whatever the device's choice. */
    public BlockMatmul withDecodePrefetch(int blocks) { return new BlockMatmul(device, gpuMatvec, allowAmx, blocks); }

    public OpenClDevice device() { return device; }

    public GpuMatvec gpuMatvec() { return gpuMatvec; }

    /**
     * The GPU-shaped decode kernel (blockq_matvec_gpu in blockq.cl) for Q8_0 and Q4_0 weights and at most
     * {@code maxRows} rows of x: one work-group per 16 weight rows, {@code lanes} work-items per row striding over its
     * blocks, the lanes' partial sums added in a local-memory tree. K-quants, more rows, and the FPGA style keep
     * blockq_linear.
     *
     * @param lanes   work-items per weight row (MATVEC_LANES): 1, 2, 4, 8 or 16 (BlockLinearBound allows a tree of at
     *                most 4 levels over the lanes; 1 is the reference's order, bit for bit)
     * @param maxRows rows of x up to which it is taken, 1 to 4 (the decode tile's rows of x, {@link Tile#forRows})
     */
    public record GpuMatvec(int lanes, int maxRows) {
        public GpuMatvec {
            if (lanes < 1 || lanes > 16 || Integer.bitCount(lanes) != 1 || maxRows < 1 || maxRows > 4) {
                throw new IllegalArgumentException("GPU matvec: lanes " + lanes + " (1, 2, 4, 8 or 16), max rows " + maxRows + " (1 to 4)");
            }
        }

        /**
         * GPUs: 16 lanes (work-groups of 256 items) up to 4 rows of x, a starting point not yet measured on a GPU; other
         * devices: null (blockq_linear, which the CPU measurements chose).
         */
        public static GpuMatvec forDevice(dev.offload.cl.DeviceInfo info) {
            return info.type() == dev.offload.cl.DeviceType.GPU ? new GpuMatvec(16, 4) : null;
        }

        String define() { return " -D MATVEC_LANES=" + lanes; }
    }

    /** Whether m rows of x times a weight of this format take blockq_matvec_gpu on this device. */
    public boolean usesGpuMatvec(int m, BlockFormat format) {
        return gpuMatvec != null && m <= gpuMatvec.maxRows() && !format.superBlocks() && device.kernelStyle() != KernelStyle.FPGA;
    }

    /** A weight on the device, in blockq.cl's layout; the buffer holds exactly the blocks' bytes. */
    public record DeviceWeight(BlockFormat format, int rows, int cols, Buffer buffer) implements AutoCloseable {
        public int blocksPerRow() { return cols / BlockFormat.BLOCK; }

        @Override public void close() { buffer.close(); }
    }

    /**
     * The register block: each work-item computes {@code mr} rows of x times {@code panels} panels of 16 weight rows
     * (work-items on the last N % 16 rows take 4 of them; blockq.cl has the layout). With {@code sharedSums} (the
     * prefill form, on VNNI), a pre-pass computes each x block's correction once for all work-items, which would
     * otherwise each recompute it for their rows. With {@code amxRows} > 0 (Q8_0 and Q4_0 prefill on Intel AMX,
     * amx_blockq.clh) a work-item takes that many rows of x: its panel tile on the AMX tiles, a tail tile {@code mr}
     * rows at a time on VNNI.
     */
    public record Tile(int mr, int panels, boolean sharedSums, int amxRows) {
        /** Rows of x from which the AMX panel tiles run (one whole A tile). */
        public static final int AMX_MIN_ROWS = 16;

        public Tile(int mr, int panels, boolean sharedSums) { this(mr, panels, sharedSums, 0); }

        /**
         * Decode (m <= 4): every row of x in one work-item, 4 panels (64 weight rows) each, so that what a work-item
         * does per block of x (its correction, the broadcasts) is shared by 64 rows. Prefill: 8 rows of x times 2
         * panels, 16 accumulators of 16 lanes. (Measured on PoCL 3.1, 2 cores of a Xeon with AVX512-VNNI, kernel times
         * interleaved: decode 1x2048x8192 Q4_0 4 panels 10% faster than 2, Q8_0 equal; prefill 64x2048x2048 8x2 460
         * GOPS, 6x2 446, 4x2 374, 8x1 377, and the shared corrections 10% faster than each work-item's own.)
         */
        public static Tile forRows(int m) { return m <= 4 ? new Tile(m, 4, false) : new Tile(8, 2, true); }

        /**
         * {@link #forRows}, or with {@code amx} (the device runs AMX tiles), Q8_0 or Q4_0 and m >= {@value #AMX_MIN_ROWS}
         * the AMX prefill: 16 rows of x times 2 panels a work-item (two sets of 2 C tiles taking the blocks in turn),
         * tail rows 8 rows of x at a time on VNNI; Q8_0 with the x-sums pre-pass (its B tiles are q + 128), Q4_0
         * without (its staged B tiles are signed). (Measured under load, kernel GOPS: 32 rows x 2 panels on 4 C tiles
         * per block was 1.0-1.1x VNNI; two alternating sets of 16 rows 1.15-1.2x; docs/amx.md.)
         */
        public static Tile forRows(int m, BlockFormat format, boolean amx) {
            if (format.superBlocks()) return m <= 4 ? forRows(m) : new Tile(K_QUANT_PREFILL_ROWS, 2, true);
            return amx && m >= AMX_MIN_ROWS ? new Tile(8, 2, format == BlockFormat.Q8_0, 16) : forRows(m);
        }

        /**
         * Rows of x a K-quant prefill work-item takes (times 2 panels, with the x-sums pre-pass: each block's two half
         * sums, which in every work-item cost 15-20% of a 128x2048x8192 product). Q6_K keeps two integer sums per panel
         * and row (its halves have scales of their own), so 8 rows would need 48 vector registers of the 32; Q4_K
         * with 8 rows spilled too (64x2048x2048 on PoCL, AMD EPYC: 319 GOPS against 477 with 4).
         */
        static final int K_QUANT_PREFILL_ROWS = 4;

        /** Rows of x one work-item takes. */
        public int itemRows() { return amxRows > 0 ? amxRows : mr; }
    }

    /**
     * How many blocks ahead a VNNI decode tile asks for its panels' bytes (blockq.cl's {@code PREFETCH_BLOCKS}; 0: it
     * leaves the stream to the hardware prefetchers): 4 on Intel CPUs, 0 elsewhere. Measured on PoCL 3.1, 2 cores, a
     * 1B decode step in alternating processes: on the Intel Xeon (AMX) 4 blocks ahead took Q4_0 from 0.87-0.89x
     * llama.cpp to 0.99-1.01x; on the AMD EPYC (Zen 5) the same 4 blocks made Q4_0 10-12% slower (29.6-30.8 ms a step
     * against 26.6-28.0 ms without, and 8, 12 or 16 blocks ahead, into L1 or L2, no better) and Q8_0 too
     * (docs/cpu-speed.md).
     */
    public static int decodePrefetchBlocks(dev.offload.cl.DeviceInfo info) {
        return info.type() == dev.offload.cl.DeviceType.CPU && info.vendor() != null && info.vendor().contains("Intel") ? 4 : 0;
    }

    /**
     * The build options of blockq.cl for one format, tile and bias choice on this device (before the device's style
     * define): VNNI where {@link GemmConfig#forDevice} finds it (PoCL on a CPU with AVX512-VNNI, portable style), and
     * for a VNNI decode tile (at most 4 rows of x, no shared x sums) the device's prefetch distance
     * ({@link #decodePrefetchBlocks}; the define only where it is not 0).
     */
    public static String buildOptions(BlockFormat format, Tile tile, boolean bias, boolean residual, boolean vnni, int prefetchBlocks) {
        if (tile.amxRows() > 0 && (!vnni || tile.sharedSums() != (format == BlockFormat.Q8_0) || tile.panels() != 2 || format.superBlocks())) {
            throw new IllegalArgumentException("the AMX tile needs VNNI, 2 panels, x sums for Q8_0 only, and Q8_0 or Q4_0: " + format + " " + tile);
        }
        if (prefetchBlocks < 0 || prefetchBlocks > 64) throw new IllegalArgumentException("prefetch distance " + prefetchBlocks + " blocks (0 to 64)");
        boolean decodeTile = vnni && tile.mr() <= 4 && !tile.sharedSums() && tile.amxRows() == 0;
        return "-D BLOCK_" + format.name() + " -D MR=" + tile.mr() + " -D NP=" + tile.panels() + (bias ? " -D HAS_BIAS" : "")
                + (residual ? " -D HAS_RESIDUAL" : "") + (vnni ? " -D X86_VNNI" + (tile.sharedSums() ? " -D X_SUMS" : "") : "")
                + (tile.amxRows() > 0 ? " -D X86_AMX -D AMX_MR=" + tile.amxRows() : "")
                + (decodeTile && prefetchBlocks > 0 ? " -D PREFETCH_BLOCKS=" + prefetchBlocks : "");
    }

    /** Every option string this device's calls can ask for: what {@code bitstreams build} prebuilds. */
    public static List<String> allBuildOptions(dev.offload.cl.DeviceInfo info, KernelStyle style) {
        boolean vnni = usesVnni(info, style), amx = usesAmx(info, style);
        int prefetch = decodePrefetchBlocks(info);
        List<String> out = new ArrayList<>();
        for (BlockFormat f : BlockFormat.values()) {
            for (int m : new int[] {1, 2, 3, 4, 5, Tile.AMX_MIN_ROWS}) {
                Tile tile = Tile.forRows(m, f, amx);
                if (m == Tile.AMX_MIN_ROWS && tile.amxRows() == 0) continue;   // no AMX: m = 5's prefill tile again
                for (boolean bias : new boolean[] {false, true}) {
                    for (boolean residual : new boolean[] {false, true}) out.add(buildOptions(f, tile, bias, residual, vnni, prefetch));
                }
            }
        }
        GpuMatvec gpu = GpuMatvec.forDevice(info);
        if (gpu != null && style != KernelStyle.FPGA) {
            for (BlockFormat f : BlockFormat.values()) {
                if (f.superBlocks()) continue;
                for (int m = 1; m <= gpu.maxRows(); m++) {
                    for (boolean bias : new boolean[] {false, true}) {
                        for (boolean residual : new boolean[] {false, true}) out.add(buildOptions(f, Tile.forRows(m), bias, residual, false, 0) + gpu.define());
                    }
                }
            }
        }
        return out;
    }

    /** For {@code devices}: the kernel a decode step's Q8_0/Q4_0 product (1 to 4 rows of x) runs on a device in this style. */
    public static String decodeKernel(dev.offload.cl.DeviceInfo info, KernelStyle style) {
        GpuMatvec g = style == KernelStyle.FPGA ? null : GpuMatvec.forDevice(info);
        if (g != null) {
            return "blockq_matvec_gpu (a work-group per 16 weight rows, " + g.lanes() + " lanes a row, up to " + g.maxRows() + " rows of x)";
        }
        return "blockq_linear (" + (usesVnni(info, style) ? "AVX512-VNNI panels, a work-item streams 64 weight rows"
                : "portable, a work-item per 64 weight rows") + (style == KernelStyle.FPGA ? ", FPGA style" : "") + ")";
    }

    private static boolean usesVnni(dev.offload.cl.DeviceInfo info, KernelStyle style) {
        GemmConfig.InnerLoop loop = GemmConfig.forDevice(info, style).innerLoop(); // AMX CPUs all have AVX512-VNNI
        return loop == GemmConfig.InnerLoop.X86_VNNI || loop == GemmConfig.InnerLoop.X86_AMX;
    }

    /** The dense int8 GEMM's gating: PoCL on a CPU with amx_tile and amx_int8, the tile state granted, portable style. */
    private static boolean usesAmx(dev.offload.cl.DeviceInfo info, KernelStyle style) {
        return GemmConfig.forDevice(info, style).innerLoop() == GemmConfig.InnerLoop.X86_AMX;
    }

    private boolean vnni() { return usesVnni(device.info(), device.kernelStyle()); }

    /** Whether this device's Q8_0 / Q4_0 prefill runs on AMX tiles (never when this BlockMatmul was made without AMX). */
    public boolean amx() { return allowAmx && usesAmx(device.info(), device.kernelStyle()); }

    /** The work-item tile for m rows of x times a weight of this format on this device. */
    public Tile tile(int m, BlockFormat format) { return Tile.forRows(m, format, amx()); }

    private Program program(BlockFormat format, Tile tile, boolean bias, boolean residual) {
        return device.program(KernelFamily.BLOCKQ, buildOptions(format, tile, bias, residual, vnni(), prefetchBlocks));
    }

    /** Bytes of the scratch {@link #enqueue} needs for m rows of x times this weight (0: none, pass null). */
    public long scratchBytes(int m, DeviceWeight w) {
        // One int per block of x (its correction), or two for the K-quants (the sums of its halves).
        return !usesGpuMatvec(m, w.format()) && vnni() && tile(m, w.format()).sharedSums()
                ? 4L * m * w.blocksPerRow() * (w.format().superBlocks() ? 2 : 1) : 0;
    }

    /** Uploads a weight and rearranges it into the kernel's layout ({@link #relayout}); blocks until done. */
    public DeviceWeight upload(BlockMatrix w) {
        return new DeviceWeight(w.format(), w.rows(), w.cols(), relayout(w, device.upload(w.blocks())));
    }

    /**
     * ggml's blocks of {@code w}, uploaded as they are ({@code ggml}, closed here), rearranged on the device into
     * blockq.cl's layout (blockq_relayout: one work-item per stored block, a 256-value super-block for Q4_K and Q6_K);
     * blocks until done. Only the result, of the same byte count, stays.
     */
    public Buffer relayout(BlockMatrix w, Buffer ggml) {
        try (ggml; Kernel k = program(w.format(), Tile.forRows(1), false, false).kernel("blockq_relayout")) {
            if (ggml.size() != w.byteSize()) throw new IllegalArgumentException("the uploaded blocks have " + ggml.size() + " bytes, " + w + " needs " + w.byteSize());
            int blocks = w.storedBlocksPerRow();
            Buffer result = device.context().createBuffer(w.byteSize());
            try {
                k.setArgs(ggml, blocks, w.rows(), result);
                device.launch(k, new long[] {blocks, w.rows()}, null).await().close();
                return result;
            } catch (RuntimeException e) {
                result.close();
                throw e;
            }
        }
    }

    /**
     * One weight of a launch: y = residual + (x W^T + bias), the float sums an add node after the product makes;
     * bias null or N floats, residual null or m * N floats, y m * N floats (written; not the residual's buffer).
     */
    public record Product(DeviceWeight weight, Buffer bias, Buffer residual, Buffer y) {
        public Product(DeviceWeight weight, Buffer bias, Buffer y) { this(weight, bias, null, y); }
    }

    /** The most weights {@link #enqueue(Buffer, Buffer, int, List, Buffer, KernelLauncher)} takes in one launch (blockq_linear_group's). */
    public static final int MAX_GROUP = 3;

    /**
     * Enqueues y = x W^T (+ bias) without waiting.
     *
     * @param x       m * K int8 values
     * @param dx      m * K / 32 float scales
     * @param bias    N floats, or null
     * @param scratch {@link #scratchBytes} bytes (null when that is 0)
     * @param y       m * N floats (written)
     */
    public void enqueue(Buffer x, Buffer dx, int m, DeviceWeight w, Buffer bias, Buffer scratch, Buffer y, KernelLauncher launcher) {
        enqueue(x, dx, m, List.of(new Product(w, bias, null, y)), scratch, launcher);
    }

    /**
     * Enqueues the products of one x with 1 to {@value #MAX_GROUP} weights of one format and K, all with a bias or
     * all without, in one launch (two or more: blockq_linear_group, whose every result is what blockq_linear gives
     * for that weight alone, bit for bit); the x-sums pre-pass, where the tile has one, runs once for all. A residual
     * is taken by a launch of one weight only.
     *
     * @param scratch {@link #scratchBytes} bytes for the first weight (the same for all; null when that is 0)
     */
    public void enqueue(Buffer x, Buffer dx, int m, List<Product> products, Buffer scratch, KernelLauncher launcher) {
        if (m < 1) throw new IllegalArgumentException("x must have at least one row, got " + m);
        if (products.isEmpty() || products.size() > MAX_GROUP) {
            throw new IllegalArgumentException("one launch takes 1.." + MAX_GROUP + " weights, got " + products.size());
        }
        DeviceWeight first = products.getFirst().weight();
        int k = first.cols();
        boolean bias = products.getFirst().bias() != null, residual = products.getFirst().residual() != null;
        if (residual && products.size() > 1) throw new IllegalArgumentException("a residual is added in a launch of one weight, got " + products.size());
        requireBytes("x", x, (long) m * k);
        requireBytes("x scales", dx, 4L * m * first.blocksPerRow());
        long nTiles = 0;
        for (Product p : products) {
            DeviceWeight w = p.weight();
            if (w.format() != first.format() || w.cols() != k || (p.bias() != null) != bias) {
                throw new IllegalArgumentException("one launch needs weights of one format and K, all with a bias or none: " + w.format() + " "
                        + w.rows() + "x" + w.cols() + (p.bias() != null ? " with" : " without") + " a bias after " + first.format() + " " + first.rows()
                        + "x" + k + (bias ? " with" : " without"));
            }
            requireBytes("y", p.y(), 4L * m * w.rows());
            if (p.bias() != null) requireBytes("bias", p.bias(), 4L * w.rows());
            if (p.residual() != null) requireBytes("residual", p.residual(), 4L * m * w.rows());
            nTiles += tiles(w, tile(m, first.format()));
        }
        long scratchBytes = scratchBytes(m, first);
        if (scratchBytes > 0 && (scratch == null || scratch.size() < scratchBytes)) {
            throw new IllegalArgumentException("this product needs a scratch buffer of " + scratchBytes + " bytes");
        }
        Tile tile = tile(m, first.format());
        if (usesGpuMatvec(m, first.format())) {
            // One launch per weight: each result is what a launch of that weight alone gives, as with blockq_linear_group.
            Program gpu = device.program(KernelFamily.BLOCKQ, buildOptions(first.format(), tile, bias, residual, false, 0) + gpuMatvec.define());
            for (Product p : products) {
                try (Kernel kernel = gpu.kernel("blockq_matvec_gpu")) {
                    kernel.setArgs(x, dx, m, k, p.weight().buffer(), p.weight().rows(), bias ? p.bias() : dx, residual ? p.residual() : dx, p.y());
                    launcher.launch(kernel, new long[] {16L * ((p.weight().rows() + 15) / 16), gpuMatvec.lanes()}, new long[] {16, gpuMatvec.lanes()});
                }
            }
            return;
        }
        Program program = program(first.format(), tile, bias, residual);
        if (scratchBytes > 0) {
            try (Kernel sums = program.kernel("blockq_x_sums")) {
                sums.setArgs(x, first.blocksPerRow(), m, scratch);
                launcher.launch(sums, new long[] {first.blocksPerRow(), m}, null);
            }
        }
        Buffer sums = scratchBytes > 0 ? scratch : dx;   // kernel arguments cannot be null: dx stands in for unused ones
        try (Kernel kernel = program.kernel(products.size() == 1 ? "blockq_linear" : "blockq_linear_group")) {
            if (products.size() == 1) {
                Product p = products.getFirst();
                kernel.setArgs(x, dx, m, k, p.weight().buffer(), p.weight().rows(), bias ? p.bias() : dx, sums, residual ? p.residual() : dx, p.y());
            } else {
                List<Object> args = new ArrayList<>(List.of(x, dx, m, k, sums));
                for (int i = 0; i < MAX_GROUP; i++) {
                    // A third weight absent: N = 0 (no tiles), its buffers stood in for by the first weight's.
                    Product p = products.get(Math.min(i, products.size() - 1));
                    boolean present = i < products.size();
                    args.addAll(List.of(p.weight().buffer(), present ? p.weight().rows() : 0, bias ? p.bias() : dx, p.y()));
                }
                kernel.setArgs(args.toArray());
            }
            long mTiles = (m + tile.itemRows() - 1) / tile.itemRows();
            // All row tiles of x in one work-group (they share its weight tile); enough work-groups along N.
            long localM = Math.min(mTiles, 16);
            long localN = 1;
            while (localN < 16 && localM * localN < 16 && nTiles / (localN * 2) >= MIN_WORK_GROUPS) localN *= 2;
            long globalM = (mTiles + localM - 1) / localM * localM, globalN = (nTiles + localN - 1) / localN * localN;
            launcher.launch(kernel, new long[] {globalM, globalN}, new long[] {localM, localN});
        }
    }

    /** Work-items along N for one weight (blockq.cl's weight_tiles): panel tiles, then tail tiles. */
    private static long tiles(DeviceWeight w, Tile tile) {
        int n = w.rows(), panels = n / 16;
        return (panels + tile.panels() - 1) / tile.panels() + (n - 16L * panels + TAIL_ROWS - 1) / TAIL_ROWS;
    }

    /** Array convenience: uploads x, its scales and the bias, runs, reads y back (the weight is already resident). */
    public float[] linear(byte[] x, float[] dx, int m, DeviceWeight w, float[] bias) {
        try (Buffer xb = device.upload(x); Buffer db = device.upload(dx); Buffer bb = bias == null ? null : device.upload(bias);
             Buffer y = device.context().createBuffer(4L * m * w.rows())) {
            run(xb, db, m, w, bb, y);
            return device.readFloats(y, m * w.rows());
        }
    }

    /** Runs and blocks (scratch made here); returns the device time of its kernels in nanoseconds (benchmarks, validation). */
    public long run(Buffer x, Buffer dx, int m, DeviceWeight w, Buffer bias, Buffer y) {
        return run(x, dx, m, List.of(new Product(w, bias, y)));
    }

    /** {@link #enqueue(Buffer, Buffer, int, List, Buffer, KernelLauncher)}, run and blocked on; returns its kernels' device nanoseconds. */
    public long run(Buffer x, Buffer dx, int m, List<Product> products) {
        long scratchBytes = scratchBytes(m, products.getFirst().weight());
        long[] ns = {0};
        try (Buffer scratch = scratchBytes > 0 ? device.context().createBuffer(scratchBytes) : null) {
            enqueue(x, dx, m, products, scratch, (kernel, global, local) -> {
                try (Event e = device.launch(kernel, global, local)) {
                    ns[0] += e.times().deviceNanos();
                }
            });
        }
        return ns[0];
    }

    private static void requireBytes(String what, Buffer b, long bytes) {
        if (b.size() < bytes) throw new IllegalArgumentException(what + " buffer has " + b.size() + " bytes, needs " + bytes);
    }
}
