package dev.offload.ops.attention;

import dev.offload.cl.Buffer;
import dev.offload.cl.DeviceType;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Attention in one kernel ({@code attention_fused} in attention.cl): an online softmax streams over
 * the keys, so the Sq x Skv scores never reach global memory. When there are too few query rows to
 * occupy the device (decode, Sq = 1), the keys are split across work-items and a small second kernel
 * ({@code attention_merge}) combines the per-split (max, sum, accumulator) partials: flash-decoding.
 *
 * <p>With {@link AttentionConfig#tiled()} (GPUs by default; forceable anywhere, e.g. on PoCL in the tests) every shape
 * whose head dimension the tile takes ({@link #usesTiled}) runs {@code attention_tiled} instead, with the same key
 * splits and merge: one work-group per tile of query rows,
 * key and value tiles in local memory, the row's max and sum reduced across work-items. The FPGA style keeps the
 * kernels above (attention_tiled's barriers do not fit its single-work-item work-groups).
 */
public final class FusedAttention implements AttentionOp {
    private static final Logger log = LoggerFactory.getLogger(FusedAttention.class);

    /** Keys per kernel block (KEY_BLOCK in attention.cl); splits are multiples of it. */
    static final int KEY_BLOCK = 16;

    private final OpenClDevice device;
    private final AttentionConfig config;

    /** With the device's split parameters: tuned, else from the repository's database, else the defaults. */
    public FusedAttention(OpenClDevice device) { this(device, AttentionConfig.resolve(device.info()).config()); }

    public FusedAttention(OpenClDevice device, AttentionConfig config) {
        this.device = device;
        this.config = config;
    }

    public AttentionConfig config() { return config; }

    @Override public OpenClDevice device() { return device; }

    /**
     * Head dimensions of common transformer models (MiniLM/BERT-base 32/64, Phi 80, 96, Llama 128, Gemma 256):
     * {@code bitstreams build} prebuilds these with float32 storage (the graph's attention uses float32).
     */
    public static final List<Integer> COMMON_HEAD_DIMS = List.of(32, 64, 80, 96, 128, 256);

    /** The build options for a problem: its head dimension and storage. */
    static String buildOptions(AttentionProblem p) {
        String options = buildOptions(p.shape().headDim(), p.storage(), p.layout());
        // A soft cap is a constant of the program (one more cached build per cap): attention.cl's SOFTCAPPED.
        return p.softcap() > 0 ? options + " -DSOFTCAP=" + Float.toHexString(p.softcap()) + "f" : options;
    }

    /** The build options of attention_tiled for a problem and tile: one more cached program per tile. */
    static String buildOptions(AttentionProblem p, AttentionConfig.Tiled tile) { return buildOptions(p) + " " + tile.defines(); }

    /**
     * The attention_tiled builds a device asks for with its configuration ({@link AttentionConfig#resolve}): float32,
     * both layouts, every {@link #COMMON_HEAD_DIMS} entry the tile takes; none in the FPGA style or without a tile.
     * What {@code bitstreams build} prebuilds next to the CPU-shaped kernels.
     */
    public static List<String> tiledBuildOptions(dev.offload.cl.DeviceInfo info, dev.offload.device.KernelStyle style) {
        AttentionConfig.Tiled tile = AttentionConfig.resolve(info).config().tiled();
        if (tile == null || style == dev.offload.device.KernelStyle.FPGA) return List.of();
        List<String> out = new java.util.ArrayList<>();
        for (int d : COMMON_HEAD_DIMS) {
            AttentionConfig.Tiled t = tile.fitted(d, info.localMemBytes());
            if (t == null) continue;
            for (AttentionProblem.Layout l : AttentionProblem.Layout.values()) out.add(buildOptions(d, Storage.FLOAT32, l) + " " + t.defines());
        }
        return out;
    }

    /**
     * The tile attention_tiled runs a problem with on this device, or null when the CPU-shaped kernels do: no tile
     * configured, the FPGA style, or a head dimension the tile does not take (see {@link AttentionConfig.Tiled#fitted}).
     */
    public AttentionConfig.Tiled tileFor(AttentionShape s) {
        if (config.tiled() == null || device.kernelStyle() == dev.offload.device.KernelStyle.FPGA) return null;
        return config.tiled().fitted(s.headDim(), device.info().localMemBytes());
    }

    /** Whether a problem of this shape runs attention_tiled (with the same key splits as attention_fused's). */
    public boolean usesTiled(AttentionShape s) { return tileFor(s) != null; }

    /** The build options for a head dimension and storage, head-major. */
    public static String buildOptions(int headDim, Storage storage) {
        return buildOptions(headDim, storage, AttentionProblem.Layout.HEAD_MAJOR);
    }

    /** The build options for a head dimension, storage and layout: each triple is one cached program. */
    public static String buildOptions(int headDim, Storage storage, AttentionProblem.Layout layout) {
        String options = "-DHEAD_DIM=" + headDim + " " + storage.define();
        return layout == AttentionProblem.Layout.TOKEN_MAJOR ? options + " -DTOKEN_MAJOR=1" : options;
    }

    /**
     * How many keys each work-item handles. One split (all keys) when the query rows alone keep every
     * compute unit busy; otherwise (few rows, long keys) enough splits of at least minSplitKeys keys
     * to give each compute unit several work-items. Decode-sized queries are always split so that one
     * query is not a single work-item walking thousands of keys. The numbers are {@link AttentionConfig}'s.
     */
    int splitSize(AttentionShape s) {
        long rows = s.queryRows();
        long wantedItems = (long) Math.max(1, device.info().computeUnits()) * config.itemsPerComputeUnit();
        long splits = Math.max(1, ceilDiv(wantedItems, rows));
        if (s.queryLength() <= 4) splits = Math.max(splits, ceilDiv(s.kvLength(), config.maxDecodeKeysPerItem()));
        splits = Math.min(splits, Math.max(1, s.kvLength() / config.minSplitKeys()));
        long size = ceilDiv(ceilDiv(s.kvLength(), splits), KEY_BLOCK) * KEY_BLOCK;
        return (int) Math.min(size, s.kvLength());
    }

    /** Query rows per work-item of attention_fused_rows (LANES in attention.cl). */
    static final int ROW_LANES = 16;

    /** Whether the row-lane kernel applies: enough query rows to fill its 16 lanes. */
    static boolean usesRowLanes(AttentionShape s) { return s.queryLength() >= ROW_LANES; }

    /** Runs and waits; returns the kernels' device time in nanoseconds. */
    @Override
    public long run(AttentionProblem p, Buffer q, Buffer k, Buffer v, Buffer out) {
        return timed(launcher -> enqueue(p, q, k, v, out, launcher));
    }

    /**
     * As {@link #run(AttentionProblem, Buffer, Buffer, Buffer, Buffer)} with an explicit split size (tests, tuning):
     * attention_tiled where it applies, else attention_fused.
     */
    long run(AttentionProblem p, Buffer q, Buffer k, Buffer v, Buffer out, int splitSize) {
        AttentionOp.checkBuffers(p, q, k, v, out);
        AttentionConfig.Tiled tile = tileFor(p.shape());
        return timed(launcher -> {
            enqueueSplit(p, tile, q, k, v, out, splitSize, null, launcher, null);
        });
    }

    /** Launches through a launcher that keeps the events, waits for them, and returns their summed device time. */
    private long timed(java.util.function.Consumer<KernelLauncher> work) {
        List<Event> events = new java.util.ArrayList<>();
        try {
            work.accept((kernel, global, local) -> events.add(device.launch(kernel, global, local)));
            long nanos = 0;
            for (Event e : events) nanos += e.times().deviceNanos();
            return nanos;
        } finally {
            events.forEach(Event::close);
        }
    }

    /**
     * Enqueues the attention without waiting (the graph runtime's launcher keeps the events on its run's queue).
     * Kernel objects, mask buffers and split partials are released before the kernels finish: OpenCL keeps a
     * released object alive until the enqueued commands that use it are done.
     */
    public void enqueue(AttentionProblem p, Buffer q, Buffer k, Buffer v, Buffer out, KernelLauncher launcher) {
        enqueue(p, q, k, v, out, null, launcher);
    }

    /**
     * As {@link #enqueue(AttentionProblem, Buffer, Buffer, Buffer, Buffer, KernelLauncher)}, with the per-sequence key
     * lengths taken from a device buffer ([batch] int32; values outside [0, Skv] act as clamped) instead of the
     * problem's mask: a graph computes them on the device, and reading them back would make the host wait.
     */
    public void enqueue(AttentionProblem p, Buffer q, Buffer k, Buffer v, Buffer out, Buffer deviceKvLengths, KernelLauncher launcher) {
        enqueue(p, q, k, v, out, deviceKvLengths, launcher, null);
    }

    /**
     * Buffers a graph's run lends the kernels: the split partials and the stand-in for an absent mask part. They
     * stay valid until the run's commands are done and, in a recorded run, at every replay (buffers created and
     * closed here would not).
     */
    public interface RunBuffers {
        /** A float32 scratch buffer of {@code count} elements, valid until the run ends. */
        Buffer floats(long count);

        /** A 4-byte buffer that stands in for an absent kernel argument. */
        Buffer placeholder();
    }

    /** As above, the partials and mask stand-ins taken from {@code run} (null: created and released here). */
    public void enqueue(AttentionProblem p, Buffer q, Buffer k, Buffer v, Buffer out, Buffer deviceKvLengths, KernelLauncher launcher,
                        RunBuffers run) {
        AttentionOp.checkBuffers(p, q, k, v, out);
        if (deviceKvLengths != null && deviceKvLengths.size() < 4L * p.shape().batch()) {
            throw new IllegalArgumentException("kv lengths buffer holds " + deviceKvLengths.size() + " bytes, the batch of "
                    + p.shape().batch() + " needs " + 4L * p.shape().batch());
        }
        // The 16-rows-per-item kernel suits CPUs (one vector lane a row); a GPU needs the parallelism of one item
        // per query row (measured on an H100: the row-lane kernel ran at 0.27-0.49x the unfused path there).
        if (usesTiled(p.shape())) enqueueSplit(p, tileFor(p.shape()), q, k, v, out, splitSize(p.shape()), deviceKvLengths, launcher, run);
        else if (usesRowLanes(p.shape()) && device.info().type() == DeviceType.CPU) enqueueRowLanes(p, q, k, v, out, deviceKvLengths, launcher, run);
        else enqueueSplit(p, null, q, k, v, out, splitSize(p.shape()), deviceKvLengths, launcher, run);
    }

    /**
     * One decode step of {@code p} (one query per sequence, Skv = the cache's capacity, token-major) over a KV cache
     * on the device: kv_cache_append writes the step's keys and values ({@code kNew}, {@code vNew}: [B, 1, Hkv*D]) at
     * row {@code kvLengths[b] - 1} of the caches ([B, capacity, Hkv*D]), then the attention reads keys
     * {@code 0 .. kvLengths[b] - 1} as its key-padding lengths. {@code kvLengths} ([B] int32, the token counts after the
     * step) is the only thing that changes from step to step, and it lives on the device: every launch is the same at
     * every position, so a graph run records the step once and replays it. The key splits follow the capacity.
     */
    public void enqueueDecodeStep(AttentionProblem p, Buffer q, Buffer kNew, Buffer vNew, Buffer kCache, Buffer vCache, Buffer kvLengths,
                                  Buffer out, KernelLauncher launcher, RunBuffers run) {
        AttentionShape s = p.shape();
        if (s.queryLength() != 1 || p.layout() != AttentionProblem.Layout.TOKEN_MAJOR || p.storage() != Storage.FLOAT32) {
            throw new IllegalArgumentException("a decode step over a KV cache takes one float32 token-major query per sequence, not " + p);
        }
        long row = 4L * s.kvHeads() * s.headDim();
        if (kNew.size() < row * s.batch() || vNew.size() < row * s.batch() || kvLengths.size() < 4L * s.batch()) {
            throw new IllegalArgumentException("decode step buffers too small for " + p + ": new keys " + kNew.size() + ", new values "
                    + vNew.size() + ", lengths " + kvLengths.size() + " bytes");
        }
        Program program = device.program(KernelFamily.ATTENTION, buildOptions(p));
        try (Kernel append = program.kernel("kv_cache_append")) {
            int kvWidth = s.kvHeads() * s.headDim();
            append.setArgs(kNew, vNew, kCache, vCache, kvLengths, kvWidth, s.kvLength());
            launcher.launch(append, new long[] {kvWidth / 4, s.batch()}, null);
        }
        enqueue(p, q, kCache, vCache, out, kvLengths, launcher, run);
    }

    /**
     * Work-group size for attention_fused_rows. Each work-item keeps 2 x HEAD_DIM float16 vectors in private
     * memory (32 KiB at D = 256); PoCL's CPU device keeps a work-group's private memory on its worker thread's
     * stack, so a work-group of many such items overflows it (a SIGSEGV at Sq = 2048, D = 128 with the size
     * PoCL picks itself). One item per work-group bounds the stack; the items are long, so the extra
     * scheduling costs nothing measurable. Other devices choose for themselves.
     */
    private long[] rowLanesLocalSize() {
        return device.info().type() == DeviceType.CPU ? new long[] {1, 1} : null;
    }

    /** attention_fused_rows: 16 query rows per work-item, one per vector lane. */
    private void enqueueRowLanes(AttentionProblem p, Buffer q, Buffer k, Buffer v, Buffer out, Buffer deviceKvLengths, KernelLauncher launcher,
                                 RunBuffers run) {
        AttentionShape s = p.shape();
        Program program = device.program(KernelFamily.ATTENTION, buildOptions(p));
        log.debug("attention_fused_rows {}", p);
        try (MaskBuffers masks = new MaskBuffers(device, s, p.mask(), deviceKvLengths, run == null ? null : run.placeholder());
             Kernel kernel = program.kernel("attention_fused_rows")) {
            kernel.setArgs(q, k, v, out, s.heads(), s.kvHeads(), s.queryLength(), s.kvLength(), p.scale(), masks.args());
            long blocks = ceilDiv(s.queryLength(), ROW_LANES);
            launcher.launch(kernel, new long[] {blocks, (long) s.batch() * s.heads()}, rowLanesLocalSize());
        }
    }

    /**
     * One flash-attention launch over key splits of {@code splitSize}, then attention_merge (of the same program) when
     * there is more than one split. With a {@code tile}, attention_tiled: work-groups of (items per row x rows), one
     * per tile of query rows of one (b, h) and split; without one (null), attention_fused: a work-item per query row,
     * (b, h) and split. Both take the same arguments and write the same partials.
     */
    private void enqueueSplit(AttentionProblem p, AttentionConfig.Tiled tile, Buffer q, Buffer k, Buffer v, Buffer out, int splitSize,
                              Buffer deviceKvLengths, KernelLauncher launcher, RunBuffers run) {
        AttentionShape s = p.shape();
        int nsplit = (int) ceilDiv(s.kvLength(), splitSize);
        int bh = s.batch() * s.heads();
        int rows = Math.toIntExact(s.queryRows());
        String name = tile != null ? "attention_tiled" : "attention_fused";
        Program program = device.program(KernelFamily.ATTENTION, tile != null ? buildOptions(p, tile) : buildOptions(p));
        log.debug("{} {}{} with {} split(s) of {} keys", name, p, tile != null ? " tile " + tile : "", nsplit, splitSize);
        long partials = (long) nsplit * rows * (s.headDim() + 2);
        Buffer partial = nsplit == 1 ? null : run != null ? run.floats(partials) : device.context().createBuffer(4L * partials);
        try (MaskBuffers masks = new MaskBuffers(device, s, p.mask(), deviceKvLengths, run == null ? null : run.placeholder());
             Kernel kernel = program.kernel(name)) {
            kernel.setArgs(q, k, v, out, partial != null ? partial : out, s.heads(), s.kvHeads(), s.queryLength(), s.kvLength(), p.scale(),
                    masks.args(), splitSize, nsplit);
            if (tile != null) {
                long tiledRows = ceilDiv(s.queryLength(), tile.rows()) * tile.rows();
                launcher.launch(kernel, new long[] {tile.itemsPerRow(), tiledRows, (long) bh * nsplit},
                        new long[] {tile.itemsPerRow(), tile.rows(), 1});
            } else {
                launcher.launch(kernel, new long[] {s.queryLength(), bh, nsplit}, null);
            }
            if (partial == null) return;
            try (Kernel merge = program.kernel("attention_merge")) {
                merge.setArgs(partial, out, rows, nsplit, s.heads(), s.queryLength());
                launcher.launch(merge, new long[] {rows}, null);
            }
        } finally {
            if (partial != null && run == null) partial.close();
        }
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }
}
