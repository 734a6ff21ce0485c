package dev.offload.ops.gemm;

import dev.offload.cl.Buffer;
import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.quant.QuantType;
import dev.offload.tuning.TunedEntry;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Searches INT8 GEMM configurations on one device. Every candidate is first checked against
 * {@link Int8GemmReference} (small awkward shapes with per-channel zero points, then the output of its first run
 * on every timing shape); one that computes a wrong value is rejected and reported, never timed. The survivors are
 * timed on a few representative shapes (device time from profiling events, median of a few repetitions) and ranked
 * by the geometric mean of their GOPS, so the decode shape counts as much as the large ones.
 *
 * <p>Two stages keep the search bounded: first every register block and inner loop with its usual work-group,
 * then other work-group sizes for the three best blocks. The current default goes first, so a budget that runs
 * out early still leaves a measured winner. On a shared machine the load changes during a search of minutes, so
 * the three best and the default are finally re-timed round-robin (a run-off), where a change of load hits
 * them alike; the run-off's figures pick the winner.
 */
public final class Int8GemmTuner {
    private static final Logger log = LoggerFactory.getLogger(Int8GemmTuner.class);

    /** A product C[m][n] = A[m][k] B[k][n]. */
    public record Shape(int m, int k, int n) {
        public String label() { return m + "x" + k + "x" + n; }

        double ops() { return 2.0 * m * k * n; }
    }

    /** Prefill-sized squares, a MiniLM feed-forward (hidden 384, 4*384 wide) over 4096 tokens, and a decode row. */
    public static final List<Shape> SHAPES = List.of(new Shape(1024, 1024, 1024), new Shape(4096, 384, 1536), new Shape(1, 4096, 4096));
    /** The same three kinds, scaled down for {@code --quick}. */
    public static final List<Shape> QUICK_SHAPES = List.of(new Shape(256, 256, 256), new Shape(512, 384, 1536), new Shape(1, 1024, 1024));

    /**
     * @param quick  smaller shapes and a smaller search space
     * @param budget wall-clock time after which no further candidate starts
     * @param reps   timed repetitions per shape (after one checked warm-up run)
     * @param seed   for the random matrices (and the tiled family's sample of its parameter grid)
     * @param search which kernel families to search
     */
    public record Options(boolean quick, Duration budget, int reps, long seed, Search search) {
        public Options {
            if (reps < 1) throw new IllegalArgumentException("repetitions must be at least 1, got " + reps);
            if (budget.isNegative() || budget.isZero()) throw new IllegalArgumentException("the budget must be positive, got " + budget);
            if (search == null) throw new IllegalArgumentException("search is required");
        }

        /** The device's usual families ({@link Search#DEFAULT}). */
        public Options(boolean quick, Duration budget, int reps, long seed) { this(quick, budget, reps, seed, Search.DEFAULT); }
    }

    /** The kernel families a search covers ({@code tune --family}). */
    public enum Search {
        /** GPUs and other non-CPU devices: both families, the tiled one first; CPUs: the direct family only. */
        DEFAULT,
        /** int8_gemm.cl's register blocks and inner loops only. */
        DIRECT,
        /** int8_gemm_tiled.cl only (on a CPU a handful of parameter sets: local-memory tiles are slow there by design). */
        TILED,
        /** Both, on any device. */
        ALL;

        boolean direct(DeviceInfo info) { return this != TILED; }

        boolean tiled(DeviceInfo info) { return this == TILED || this == ALL || (this == DEFAULT && info.type() != DeviceType.CPU); }
    }

    /** Tiled candidates per search: a sample of the grid on a GPU, fewer with --quick. */
    static final int TILED_CANDIDATES = 40, TILED_CANDIDATES_QUICK = 8;

    /**
     * Stage one's candidates: the device's default first when its family is searched, then the tiled family's
     * ({@link TiledGemmConfig#candidates}), then the direct family's {@link #blocks}.
     */
    static List<GemmConfig> candidates(DeviceInfo info, Options options) {
        LinkedHashSet<GemmConfig> out = new LinkedHashSet<>();
        GemmConfig standard = GemmConfig.forDevice(info);
        boolean tiled = options.search().tiled(info), direct = options.search().direct(info);
        if (standard instanceof TiledGemmConfig ? tiled : direct) out.add(standard);
        if (tiled) {
            boolean cpu = info.type() == DeviceType.CPU;
            out.addAll(TiledGemmConfig.candidates(info, cpu, options.quick() ? TILED_CANDIDATES_QUICK : TILED_CANDIDATES, options.seed()));
        }
        if (direct) out.addAll(blocks(info, options.quick()));
        return List.copyOf(out);
    }

    public enum Status {
        /** Matched the reference and was timed. */
        PASSED,
        /** Computed a wrong value: rejected. */
        WRONG,
        /** Did not build or launch on the device: rejected. */
        FAILED,
        /** Not tried: the budget ran out. */
        SKIPPED,
        /** Re-timed in the final run-off, round-robin with the other finalists: these figures pick the winner. */
        FINALIST
    }

    /**
     * What happened to one candidate.
     *
     * @param gops  GOPS per shape label (PASSED only)
     * @param score geometric mean of the GOPS (0 unless PASSED)
     */
    public record Outcome(GemmConfig config, Status status, Map<String, Double> gops, double score, String detail) {}

    /** Every candidate's outcome in the order tried, and the fastest that passed. */
    public record Result(DeviceInfo device, List<Shape> shapes, List<Outcome> outcomes, Optional<Outcome> winner) {
        public long count(Status s) { return outcomes.stream().filter(o -> o.status() == s).count(); }
    }

    /** Runs one candidate's product into {@code out}, returning device nanoseconds: the seam tests use to break a candidate. */
    interface Launch {
        long run(Int8Gemm gemm, Buffer a, QuantType aType, int m, ZeroPoint za, PackedWeights w, Buffer out);
    }

    private static final Launch KERNEL = (gemm, a, aType, m, za, w, out) -> gemm.run(a, aType, m, za, w, Epilogue.INT32, out);
    private static final int POISON = 0x7F7F7F7F;

    private final OpenClDevice device;
    private final Options options;
    private final Launch launch;

    public Int8GemmTuner(OpenClDevice device, Options options) { this(device, options, KERNEL); }

    Int8GemmTuner(OpenClDevice device, Options options, Launch launch) {
        this.device = device;
        this.options = options;
        this.launch = launch;
    }

    /** The inner loops worth trying on a device. */
    static List<GemmConfig.InnerLoop> innerLoops(DeviceInfo info) {
        List<GemmConfig.InnerLoop> loops = new ArrayList<>();
        if (new DirectGemmConfig(32, 64, GemmConfig.InnerLoop.X86_AMX, 1).runsOn(info)) loops.add(GemmConfig.InnerLoop.X86_AMX);
        if (new DirectGemmConfig(4, 32, GemmConfig.InnerLoop.X86_VNNI, 16).runsOn(info)) loops.add(GemmConfig.InnerLoop.X86_VNNI);
        if (info.dotProduct() != null && info.dotProduct().input4x8Bit()) loops.add(GemmConfig.InnerLoop.DOT_PRODUCT);
        loops.add(GemmConfig.InnerLoop.AUTO);
        // AUTO differs from PORTABLE only where the compiler targets AVX512BW, i.e. on CPUs.
        if (info.type() == DeviceType.CPU) loops.add(GemmConfig.InnerLoop.PORTABLE);
        return loops;
    }

    /**
     * Stage one: every register block the kernel supports for each inner loop, with that loop's usual work-group,
     * the device's default first. AMX blocks are 16 or 32 rows (one or two row tiles) x 32..128 columns; VNNI blocks
     * are 1..8 rows x 16..64 columns (int32 vectors of 16 lanes); the other loops keep MR x NR int16 accumulators,
     * so blocks beyond 32 of them spill and are left out.
     */
    static List<DirectGemmConfig> blocks(DeviceInfo info, boolean quick) {
        DirectGemmConfig first = DirectGemmConfig.forDevice(info);
        LinkedHashSet<DirectGemmConfig> out = new LinkedHashSet<>();
        out.add(first);
        int[] rows = quick ? new int[] {1, 4} : new int[] {1, 2, 4, 8};
        for (GemmConfig.InnerLoop loop : innerLoops(info)) {
            if (loop == GemmConfig.InnerLoop.X86_AMX) {
                for (int mr : new int[] {16, 32}) {
                    for (int nr : quick ? new int[] {32, 64} : new int[] {32, 64, 128}) out.add(new DirectGemmConfig(mr, nr, loop, 1));
                }
                continue;
            }
            boolean vnni = loop == GemmConfig.InnerLoop.X86_VNNI;
            int[] cols = vnni ? (quick ? new int[] {16, 32} : new int[] {16, 32, 64}) : (quick ? new int[] {4, 8} : new int[] {2, 4, 8});
            int wg = vnni ? 16 : 64;
            for (int mr : rows) {
                for (int nr : cols) {
                    if (!vnni && mr * nr > 32) continue;
                    out.add(new DirectGemmConfig(mr, nr, loop, wg));
                }
            }
        }
        return List.copyOf(out);
    }

    /** Stage two: the work-group sizes tried for the best blocks (0: the driver chooses). */
    static List<Integer> workGroups(boolean quick) {
        return quick ? List.of(0, 32) : List.of(0, 8, 16, 32, 64);
    }

    /** Runs the search; {@code progress} hears each outcome as it is decided. */
    public Result tune(Consumer<Outcome> progress) {
        Instant deadline = Instant.now().plus(options.budget());
        List<Shape> shapes = options.quick() ? QUICK_SHAPES : SHAPES;
        List<Outcome> outcomes = new ArrayList<>();
        try (Problems problems = new Problems(device, shapes, options.seed())) {
            for (GemmConfig c : candidates(device.info(), options)) {
                outcomes.add(report(progress, tryCandidate(c, problems, deadline)));
            }
            List<Outcome> best = outcomes.stream().filter(o -> o.status() == Status.PASSED)
                    .sorted(Comparator.comparingDouble(Outcome::score).reversed()).limit(3).toList();
            LinkedHashSet<GemmConfig> tried = new LinkedHashSet<>(outcomes.stream().map(Outcome::config).toList());
            for (Outcome o : best) {
                if (!(o.config() instanceof DirectGemmConfig d)) continue; // the tiled family's work-group is part of its sample
                for (int wg : workGroups(options.quick())) {
                    GemmConfig c = new DirectGemmConfig(d.mr(), d.nr(), d.innerLoop(), wg);
                    if (tried.add(c)) outcomes.add(report(progress, tryCandidate(c, problems, deadline)));
                }
            }
            List<GemmConfig> finalists = new ArrayList<>(outcomes.stream().filter(o -> o.status() == Status.PASSED)
                    .sorted(Comparator.comparingDouble(Outcome::score).reversed()).limit(3).map(Outcome::config).toList());
            GemmConfig standard = outcomes.getFirst().config();
            if (outcomes.getFirst().status() == Status.PASSED && !finalists.contains(standard)) finalists.add(standard);
            if (finalists.size() > 1 && Instant.now().isBefore(deadline)) {
                for (Outcome o : runOff(finalists, problems)) outcomes.add(report(progress, o));
            }
        }
        Status deciding = outcomes.stream().anyMatch(o -> o.status() == Status.FINALIST) ? Status.FINALIST : Status.PASSED;
        Optional<Outcome> winner = outcomes.stream().filter(o -> o.status() == deciding).max(Comparator.comparingDouble(Outcome::score));
        return new Result(device.info(), shapes, List.copyOf(outcomes), winner);
    }

    /** Times the finalists round-robin, shape by shape (each has passed its checks already). */
    private List<Outcome> runOff(List<GemmConfig> finalists, Problems problems) {
        int rounds = Math.max(3, options.reps());
        List<Int8Gemm> gemms = finalists.stream().map(c -> new Int8Gemm(device, c, false)).toList();
        List<Map<String, Double>> gops = new ArrayList<>();
        for (int f = 0; f < finalists.size(); f++) gops.add(new LinkedHashMap<>());
        for (Problem p : problems.timed) {
            List<PackedWeights> packed = new ArrayList<>();
            try (Buffer out = device.context().createBuffer(4L * p.count())) {
                for (Int8Gemm g : gemms) packed.add(g.pack(p.b, p.zb));
                long[][] nanos = new long[finalists.size()][rounds];
                for (int r = 0; r < rounds; r++) {
                    for (int f = 0; f < finalists.size(); f++) {
                        nanos[f][r] = launch.run(gemms.get(f), p.a, p.aMatrix.type(), p.shape.m(), p.za, packed.get(f), out);
                    }
                }
                for (int f = 0; f < finalists.size(); f++) {
                    Arrays.sort(nanos[f]);
                    gops.get(f).put(p.shape.label(), p.shape.ops() / Math.max(1, nanos[f][rounds / 2]));
                }
            } finally {
                packed.forEach(PackedWeights::close);
            }
        }
        List<Outcome> out = new ArrayList<>();
        for (int f = 0; f < finalists.size(); f++) {
            double logSum = gops.get(f).values().stream().mapToDouble(Math::log).sum();
            out.add(new Outcome(finalists.get(f), Status.FINALIST, gops.get(f), Math.exp(logSum / gops.get(f).size()),
                    "run-off, median of " + rounds + " round-robin rounds"));
        }
        return out;
    }

    private static Outcome report(Consumer<Outcome> progress, Outcome o) {
        progress.accept(o);
        return o;
    }

    private Outcome tryCandidate(GemmConfig config, Problems problems, Instant deadline) {
        if (Instant.now().isAfter(deadline)) return new Outcome(config, Status.SKIPPED, Map.of(), 0, "budget spent");
        Int8Gemm gemm = new Int8Gemm(device, config, false);
        try {
            for (Problem p : problems.checks) {
                try (PackedWeights w = gemm.pack(p.b, p.zb); Buffer out = device.upload(problems.poison(p.count()))) {
                    String wrong = runAndCompare(gemm, p, w, out);
                    if (wrong != null) return new Outcome(config, Status.WRONG, Map.of(), 0, "wrong at " + p.shape.label() + ": " + wrong);
                }
            }
            Map<String, Double> gops = new LinkedHashMap<>();
            double logSum = 0;
            for (Problem p : problems.timed) {
                try (PackedWeights w = gemm.pack(p.b, p.zb); Buffer out = device.upload(problems.poison(p.count()))) {
                    String wrong = runAndCompare(gemm, p, w, out); // the warm-up run, checked
                    if (wrong != null) return new Outcome(config, Status.WRONG, Map.of(), 0, "wrong at " + p.shape.label() + ": " + wrong);
                    long[] nanos = new long[options.reps()];
                    for (int r = 0; r < nanos.length; r++) nanos[r] = launch.run(gemm, p.a, p.aMatrix.type(), p.shape.m(), p.za, w, out);
                    Arrays.sort(nanos);
                    double g = p.shape.ops() / Math.max(1, nanos[nanos.length / 2]);
                    gops.put(p.shape.label(), g);
                    logSum += Math.log(g);
                }
            }
            return new Outcome(config, Status.PASSED, gops, Math.exp(logSum / problems.timed.size()), "");
        } catch (RuntimeException e) {
            log.debug("int8 GEMM candidate {} failed", config.brief(), e);
            return new Outcome(config, Status.FAILED, Map.of(), 0, String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
    }

    /** Runs the candidate once into the (poisoned) output and compares with the reference; null when exact. */
    private String runAndCompare(Int8Gemm gemm, Problem p, PackedWeights w, Buffer out) {
        int count = p.count();
        launch.run(gemm, p.a, p.aMatrix.type(), p.shape.m(), p.za, w, out);
        int[] got = device.readInts(out, count);
        int[] want = p.reference();
        int bad = 0, first = -1;
        for (int i = 0; i < count; i++) {
            if (got[i] != want[i]) {
                if (first < 0) first = i;
                bad++;
            }
        }
        if (bad == 0) return null;
        int n = p.shape.n();
        return bad + " of " + count + " values differ, first C[" + first / n + "][" + first % n + "] = " + got[first] + ", want " + want[first];
    }

    /** One product's inputs: A on the device, B on the host (each candidate packs it its own way), the exact answer. */
    private static final class Problem implements AutoCloseable {
        final Shape shape;
        final Int8Matrix aMatrix, b;
        final ZeroPoint za, zb;
        final Buffer a;
        private int[] reference;

        Problem(OpenClDevice device, Shape shape, Int8Matrix a, ZeroPoint za, Int8Matrix b, ZeroPoint zb) {
            this.shape = shape;
            this.aMatrix = a;
            this.b = b;
            this.za = za;
            this.zb = zb;
            this.a = device.upload(a.data());
        }

        int count() { return shape.m() * shape.n(); }

        /** Computed on first use (seconds for the large shapes in Java), then kept. */
        int[] reference() {
            if (reference == null) reference = Int8GemmReference.matmulInteger(aMatrix, za, b, zb);
            return reference;
        }

        @Override public void close() { a.close(); }
    }

    /** The check products (awkward shapes, per-channel zero points, both signednesses) and the timed ones. */
    private static final class Problems implements AutoCloseable {
        final List<Problem> checks = new ArrayList<>();
        final List<Problem> timed = new ArrayList<>();
        private final Map<Integer, int[]> poisons = new HashMap<>();

        Problems(OpenClDevice device, List<Shape> shapes, long seed) {
            SplittableRandom rnd = new SplittableRandom(seed);
            QuantType u8 = QuantType.UINT8, s8 = QuantType.INT8;
            try {
                Shape odd = new Shape(19, 131, 77);
                checks.add(new Problem(device, odd, matrix(rnd, u8, odd.m(), odd.k()), ZeroPoint.perRow(values(rnd, odd.m(), u8)),
                        matrix(rnd, s8, odd.k(), odd.n()), ZeroPoint.perColumn(values(rnd, odd.n(), s8))));
                Shape row = new Shape(1, 200, 45);
                checks.add(new Problem(device, row, matrix(rnd, s8, row.m(), row.k()), ZeroPoint.scalar(-7),
                        matrix(rnd, u8, row.k(), row.n()), ZeroPoint.scalar(131)));
                // Dynamic quantization's usual case: uint8 activations with a zero point, symmetric int8 weights.
                for (Shape s : shapes) {
                    timed.add(new Problem(device, s, matrix(rnd, u8, s.m(), s.k()), ZeroPoint.scalar(128 - 5),
                            matrix(rnd, s8, s.k(), s.n()), ZeroPoint.scalar(0)));
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        int[] poison(int count) {
            return poisons.computeIfAbsent(count, c -> {
                int[] p = new int[c];
                Arrays.fill(p, POISON);
                return p;
            });
        }

        private static Int8Matrix matrix(SplittableRandom rnd, QuantType type, int rows, int cols) {
            byte[] d = new byte[rows * cols];
            rnd.nextBytes(d);
            return new Int8Matrix(type, rows, cols, d);
        }

        private static int[] values(SplittableRandom rnd, int count, QuantType type) {
            int[] v = new int[count];
            for (int i = 0; i < count; i++) v[i] = rnd.nextInt(type.min(), type.max() + 1);
            return v;
        }

        @Override public void close() {
            checks.forEach(Problem::close);
            timed.forEach(Problem::close);
        }
    }

    /** The winner as a database entry for this device and driver. */
    public static TunedEntry entry(Result result, Outcome winner) {
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        String note = String.format(java.util.Locale.ROOT, "%d candidates: %d passed, %d rejected (wrong), %d failed, %d skipped, "
                        + "%d in the run-off; score %.1f GOPS (geometric mean); shapes MxKxN; load average %.2f at the end; %d CPUs",
                result.outcomes().size() - result.count(Status.FINALIST), result.count(Status.PASSED), result.count(Status.WRONG),
                result.count(Status.FAILED), result.count(Status.SKIPPED), result.count(Status.FINALIST), winner.score(), load,
                Runtime.getRuntime().availableProcessors());
        Map<String, Double> gops = new LinkedHashMap<>();
        winner.gops().forEach((k, v) -> gops.put(k, Math.round(v * 10) / 10.0));
        return new TunedEntry(GemmConfig.OP, result.device().name(), result.device().driverVersion(), winner.config().toParams(),
                gops, Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString(), note);
    }
}
