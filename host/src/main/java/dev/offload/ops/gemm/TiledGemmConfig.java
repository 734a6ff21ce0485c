package dev.offload.ops.gemm;

import dev.offload.cl.DeviceInfo;
import dev.offload.kernels.KernelFamily;
import dev.offload.tuning.TunedEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The tiled INT8 GEMM (int8_gemm_tiled.cl), shaped for GPUs, in CLBlast Xgemm's parameter space: a work-group computes
 * an {@code mwg x nwg} tile of C in steps of {@code kwg} along K with {@code mdimc x ndimc} work-items, each holding
 * a register block of {@code mwg/mdimc x nwg/ndimc}; {@code vwm}/{@code vwn} are the widths (in 4-byte K-groups of
 * neighbouring rows/columns) of the register loads; {@code sa}/{@code sb} stage A/B in local memory.
 *
 * <p>B is packed as the direct family's transposed layout ([nPadded][stride], each column of B one contiguous row in
 * the signed domain), with nPadded a multiple of {@code nwg} and the stride a multiple of {@code kwg}, zero-filled:
 * B's loads need no bounds checks. A is read unpadded, with guarded loads.
 *
 * @param innerLoop DOT_PRODUCT (cl_khr_integer_dot_product's dot, emulated where absent) or PORTABLE
 */
public record TiledGemmConfig(int mwg, int nwg, int kwg, int mdimc, int ndimc, int vwm, int vwn, boolean sa, boolean sb,
                              InnerLoop innerLoop) implements GemmConfig {
    /** The value of the "family" parameter in the tuning database. */
    public static final String FAMILY = "tiled";
    /** Tile sides and the K step stay within this (private arrays and local memory stay small). */
    static final int MAX_TILE = 256;
    /** Accumulators per work-item (MWI * NWI) beyond this spill on every GPU. */
    static final int MAX_REGISTER_BLOCK = 64;
    /** The local memory every OpenCL device has (the minimum of CL_DEVICE_LOCAL_MEM_SIZE, 32 KiB). */
    static final long MIN_LOCAL_MEMORY = 32 * 1024;

    public TiledGemmConfig {
        if (innerLoop != InnerLoop.DOT_PRODUCT && innerLoop != InnerLoop.PORTABLE) {
            throw new IllegalArgumentException("the tiled GEMM's inner loop is DOT_PRODUCT or PORTABLE, not " + innerLoop);
        }
        for (int v : new int[] {mwg, nwg, kwg, mdimc, ndimc}) {
            if (v < 1 || v > MAX_TILE) throw new IllegalArgumentException("tile parameters must be 1.." + MAX_TILE + ": " + brief(mwg, nwg, kwg, mdimc, ndimc, vwm, vwn, sa, sb));
        }
        if (!widthOk(vwm) || !widthOk(vwn)) throw new IllegalArgumentException("VWM and VWN must be 1, 2, 4 or 8, got " + vwm + " and " + vwn);
        if (mwg % (mdimc * vwm) != 0) throw new IllegalArgumentException("MWG " + mwg + " must be a multiple of MDIMC * VWM = " + mdimc * vwm);
        if (nwg % (ndimc * vwn) != 0) throw new IllegalArgumentException("NWG " + nwg + " must be a multiple of NDIMC * VWN = " + ndimc * vwn);
        if (kwg % 4 != 0) throw new IllegalArgumentException("KWG " + kwg + " must be a multiple of 4 (K travels in 4-byte groups)");
        if ((mwg / mdimc) * (nwg / ndimc) > MAX_REGISTER_BLOCK) {
            throw new IllegalArgumentException("register block " + mwg / mdimc + "x" + nwg / ndimc + " has over " + MAX_REGISTER_BLOCK + " accumulators");
        }
        if (mdimc * ndimc > 1024) throw new IllegalArgumentException("work-group " + ndimc + "x" + mdimc + " has over 1024 work-items");
        if (localBytes(mwg, nwg, kwg, sa, sb) > MIN_LOCAL_MEMORY) {
            throw new IllegalArgumentException("tiles of " + localBytes(mwg, nwg, kwg, sa, sb) + " bytes exceed the 32 KiB of local memory every device has");
        }
    }

    private static boolean widthOk(int v) { return v == 1 || v == 2 || v == 4 || v == 8; }

    private static long localBytes(int mwg, int nwg, int kwg, boolean sa, boolean sb) {
        return (sa ? (long) mwg * kwg : 0) + (sb ? (long) nwg * kwg : 0);
    }

    /** Local memory the tiles take, in bytes. */
    public long localBytes() { return localBytes(mwg, nwg, kwg, sa, sb); }

    /** Work-items per work-group. */
    public int workGroupSize() { return mdimc * ndimc; }

    /**
     * The defaults for a GPU or other non-CPU device: 64x64 tiles of C, K steps of 32, 16x16 work-items with 4x4
     * register blocks loaded as 4-wide vectors, both operands staged in local memory (4 KiB); 8x8 work-items where the
     * device takes fewer than 256 per group. The integer dot product where the device reports 4x8-bit inputs.
     * A sensible starting point for the tuner, not a measured optimum: no GPU has run it yet (docs/tuning.md).
     */
    public static TiledGemmConfig forDevice(DeviceInfo info) {
        InnerLoop loop = hasDot(info) ? InnerLoop.DOT_PRODUCT : InnerLoop.PORTABLE;
        TiledGemmConfig wide = new TiledGemmConfig(64, 64, 32, 16, 16, 4, 4, true, true, loop);
        return wide.runsOn(info) ? wide : new TiledGemmConfig(32, 32, 32, 8, 8, 4, 4, true, true, loop);
    }

    /**
     * The parameter sets {@code validate} and the tests run on every device that takes them (PoCL included), each with
     * both inner loops: the GPU default (vector widths 4/4, A and B staged); no local memory at all (SA = SB = 0);
     * vector widths 4/8 with A staged and B from global; B staged only, 8x8 register blocks, K steps of 64; and an
     * odd one (3x5 work-items, K steps of 12, 24x40 tiles, widths 2/8) that no power-of-two shape hides a bug behind.
     */
    public static List<TiledGemmConfig> validationSets() {
        List<TiledGemmConfig> out = new ArrayList<>();
        for (InnerLoop loop : new InnerLoop[] {InnerLoop.DOT_PRODUCT, InnerLoop.PORTABLE}) {
            out.add(new TiledGemmConfig(64, 64, 32, 16, 16, 4, 4, true, true, loop));
            out.add(new TiledGemmConfig(16, 32, 16, 4, 8, 4, 4, false, false, loop));
            out.add(new TiledGemmConfig(32, 64, 16, 8, 8, 4, 8, true, false, loop));
            out.add(new TiledGemmConfig(32, 32, 64, 4, 4, 1, 2, false, true, loop));
            out.add(new TiledGemmConfig(24, 40, 12, 3, 5, 2, 8, true, true, loop));
        }
        return out;
    }

    private static boolean hasDot(DeviceInfo info) { return info.dotProduct() != null && info.dotProduct().input4x8Bit(); }

    /**
     * The tuner's candidates, the device's default first. On a GPU (or anything not a CPU): a seeded sample of the
     * grid MWG, NWG in {32, 64, 128}, KWG in {16, 32, 64}, MDIMC x NDIMC in {8x8, 16x16, 8x16, 16x8}, VWM = VWN in
     * {1, 2, 4}, SA/SB in {both, B only, none}, with every candidate that breaks a constraint or the device's limits left
     * out ({@code limit} of them; CLBlast also samples its space at random). On a CPU (PoCL, only when asked for): a
     * handful that covers the kernel's paths, since local-memory tiles are slow there by design.
     */
    static List<TiledGemmConfig> candidates(DeviceInfo info, boolean cpu, int limit, long seed) {
        InnerLoop loop = hasDot(info) ? InnerLoop.DOT_PRODUCT : InnerLoop.PORTABLE;
        LinkedHashSet<TiledGemmConfig> out = new LinkedHashSet<>();
        out.add(forDevice(info));
        if (cpu) {
            out.add(new TiledGemmConfig(32, 32, 32, 8, 8, 4, 4, true, true, loop));
            out.add(new TiledGemmConfig(32, 64, 16, 8, 8, 2, 8, true, true, loop));
            out.add(new TiledGemmConfig(16, 32, 16, 4, 8, 4, 4, false, false, loop));
            out.add(new TiledGemmConfig(32, 32, 64, 4, 4, 4, 4, false, true, loop));
        } else {
            List<TiledGemmConfig> grid = new ArrayList<>();
            int[][] dims = {{8, 8}, {16, 16}, {8, 16}, {16, 8}};
            boolean[][] staging = {{true, true}, {false, true}, {false, false}};
            for (int mwg : new int[] {32, 64, 128})
                for (int nwg : new int[] {32, 64, 128})
                    for (int kwg : new int[] {16, 32, 64})
                        for (int[] d : dims)
                            for (int vw : new int[] {1, 2, 4})
                                for (boolean[] s : staging) {
                                    TiledGemmConfig c = tryMake(mwg, nwg, kwg, d[0], d[1], vw, vw, s[0], s[1], loop);
                                    if (c != null && c.runsOn(info)) grid.add(c);
                                }
            SplittableRandom rnd = new SplittableRandom(seed);
            for (int i = grid.size() - 1; i > 0; i--) java.util.Collections.swap(grid, i, rnd.nextInt(i + 1));
            out.addAll(grid);
        }
        return out.stream().filter(c -> c.runsOn(info)).limit(limit).toList();
    }

    /** The configuration, or null where it breaks a constraint (the grid's holes). */
    static TiledGemmConfig tryMake(int mwg, int nwg, int kwg, int mdimc, int ndimc, int vwm, int vwn, boolean sa, boolean sb, InnerLoop loop) {
        try {
            return new TiledGemmConfig(mwg, nwg, kwg, mdimc, ndimc, vwm, vwn, sa, sb, loop);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The device takes the work-group (in total and per dimension) and has the local memory for the tiles. */
    @Override
    public boolean runsOn(DeviceInfo info) {
        List<Long> items = info.maxWorkItemSizes();
        boolean dims = items == null || items.size() < 2 || (ndimc <= items.get(0) && mdimc <= items.get(1));
        return workGroupSize() <= info.maxWorkGroupSize() && dims && localBytes() <= info.localMemBytes();
    }

    @Override public KernelFamily family() { return KernelFamily.INT8_GEMM_TILED; }

    @Override public String kernelName() { return "int8_gemm_tiled"; }

    @Override
    public String defines() {
        return "-D MWG=" + mwg + " -D NWG=" + nwg + " -D KWG=" + kwg + " -D MDIMC=" + mdimc + " -D NDIMC=" + ndimc
                + " -D VWM=" + vwm + " -D VWN=" + vwn + " -D SA=" + (sa ? 1 : 0) + " -D SB=" + (sb ? 1 : 0)
                + (innerLoop == InnerLoop.DOT_PRODUCT ? innerLoop.define() : "");
    }

    /** One program for every M: rows past M are guarded in the kernel. */
    @Override public String defines(int rows) { return defines(); }

    @Override public List<String> allDefines() { return List.of(defines()); }

    @Override public int columnMultiple() { return nwg; }

    /** K padded to whole K steps (a multiple of 4, so B's K-groups are aligned uint loads). */
    @Override public int packedStride(int k) { return (k + kwg - 1) / kwg * kwg; }

    @Override public boolean panels() { return false; }

    /** Global size (work-items along N, along M) for a product of {@code m} rows; local size (ndimc, mdimc). */
    long[] globalSize(int m, int nPadded) {
        return new long[] {(long) nPadded / nwg * ndimc, (long) ((m + mwg - 1) / mwg) * mdimc};
    }

    long[] localSize() { return new long[] {ndimc, mdimc}; }

    @Override
    public Map<String, Object> toParams() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("family", FAMILY);
        p.put("MWG", mwg);
        p.put("NWG", nwg);
        p.put("KWG", kwg);
        p.put("MDIMC", mdimc);
        p.put("NDIMC", ndimc);
        p.put("VWM", vwm);
        p.put("VWN", vwn);
        p.put("SA", sa ? 1 : 0);
        p.put("SB", sb ? 1 : 0);
        p.put("innerLoop", innerLoop.name());
        return p;
    }

    /** The configuration a tuning entry of the tiled family holds; unknown or out-of-range values are refused. */
    public static TiledGemmConfig fromParams(TunedEntry e) {
        InnerLoop innerLoop = InnerLoop.fromParams(e);
        return new TiledGemmConfig(e.intParam("MWG"), e.intParam("NWG"), e.intParam("KWG"), e.intParam("MDIMC"),
                e.intParam("NDIMC"), e.intParam("VWM"), e.intParam("VWN"), flag(e, "SA"), flag(e, "SB"), innerLoop);
    }

    private static boolean flag(TunedEntry e, String name) {
        int v = e.intParam(name);
        if (v != 0 && v != 1) throw new IllegalArgumentException(name + " must be 0 or 1, got " + v);
        return v == 1;
    }

    private static String brief(int mwg, int nwg, int kwg, int mdimc, int ndimc, int vwm, int vwn, boolean sa, boolean sb) {
        return "tiled " + mwg + "x" + nwg + "x" + kwg + " wi" + mdimc + "x" + ndimc + " vw" + vwm + "/" + vwn
                + " s" + (sa ? "A" : "") + (sb ? "B" : "") + (sa || sb ? "" : "-");
    }

    /** Short form for tables: {@code tiled 64x64x32 wi16x16 vw4/4 sAB DOT_PRODUCT}. */
    @Override
    public String brief() { return brief(mwg, nwg, kwg, mdimc, ndimc, vwm, vwn, sa, sb) + " " + innerLoop.name(); }

    @Override
    public String describe() {
        String staged = sa && sb ? "A and B staged in local memory" : sa ? "A staged in local memory, B from global"
                : sb ? "B staged in local memory, A from global" : "no local memory (A and B from global)";
        return "tiled (local memory) work-group tile " + mwg + "x" + nwg + ", K step " + kwg + ", " + mdimc + "x" + ndimc
                + " work-items with " + mwg / mdimc + "x" + nwg / ndimc + " register blocks, vector widths " + vwm + "/" + vwn
                + ", " + staged + ", " + innerLoop.description();
    }
}
