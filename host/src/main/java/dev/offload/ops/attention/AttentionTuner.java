package dev.offload.ops.attention;

import dev.offload.cl.Buffer;
import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.device.OpenClDevice;
import dev.offload.tuning.TunedEntry;
import java.lang.foreign.Arena;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Searches the fused attention kernel's key-split parameters ({@link AttentionConfig}) on one device, on the
 * shapes where they matter: few query rows over long keys (decode). Candidates that split every shape the same
 * way as one already measured are the same launches and are not measured again. Each candidate's first run per
 * shape is compared with {@link AttentionReference} (relative error within {@link AttentionReference#FLOAT32_BOUND},
 * output poisoned with NaN); a wrong one is rejected. Ranked by the geometric mean of GFLOPS (device time, median);
 * the three best and the default are then re-timed round-robin (a run-off: a change of machine load hits them
 * alike), and the default stays unless a finalist beats it by more than {@link #MARGIN}, so noise does not churn
 * the database.
 */
public final class AttentionTuner {
    /** How much faster than the default a candidate must be to replace it. */
    public static final double MARGIN = 1.03;

    public static final List<AttentionShape> SHAPES = List.of(new AttentionShape(1, 8, 2, 1, 4096, 128),
            new AttentionShape(1, 12, 12, 1, 1024, 64), new AttentionShape(1, 12, 12, 8, 512, 64));
    public static final List<AttentionShape> QUICK_SHAPES = List.of(new AttentionShape(1, 8, 2, 1, 1024, 128),
            new AttentionShape(1, 12, 12, 8, 256, 64));

    public record Options(boolean quick, Duration budget, int reps, long seed) {}

    /** FINALIST: re-timed round-robin with the other finalists; those figures pick the winner. */
    public enum Status { PASSED, WRONG, FAILED, SKIPPED, FINALIST }

    /** @param gflops per shape (PASSED only); @param score their geometric mean */
    public record Outcome(AttentionConfig config, Status status, Map<String, Double> gflops, double score, String detail) {}

    public record Result(DeviceInfo device, List<AttentionShape> shapes, List<Outcome> outcomes, Optional<Outcome> winner) {}

    private final OpenClDevice device;
    private final Options options;

    public AttentionTuner(OpenClDevice device, Options options) {
        this.device = device;
        this.options = options;
    }

    /**
     * The default first, then work-items per compute unit x shortest split x longest decode walk (with the device's
     * default tile, if any); on a device whose default has the tiled kernel also other tiles and none.
     */
    static List<AttentionConfig> candidates(DeviceInfo info, boolean quick) {
        List<AttentionConfig> out = new ArrayList<>();
        AttentionConfig standard = AttentionConfig.forDevice(info);
        out.add(standard);
        if (standard.tiled() != null) {
            boolean sg = standard.tiled().subGroups();
            out.add(standard.withTiled(null));
            for (int[] t : new int[][] {{32, 32, 16}, {16, 64, 16}, {8, 32, 32}, {16, 32, 32}, {32, 16, 16}}) {
                AttentionConfig c = standard.withTiled(new AttentionConfig.Tiled(t[0], t[1], t[2], sg));
                if (!out.contains(c)) out.add(c);
            }
        }
        int[] items = info.type() == DeviceType.CPU ? new int[] {2, 4, 8, 16, 32} : new int[] {64, 128, 256, 512};
        int[] minSplit = quick ? new int[] {64, 256} : new int[] {64, 128, 256, 512};
        int[] maxDecode = quick ? new int[] {1024} : new int[] {256, 1024, 4096};
        for (int i : items) for (int m : minSplit) for (int d : maxDecode) {
            AttentionConfig c = new AttentionConfig(i, m, d, standard.tiled());
            if (!out.contains(c)) out.add(c);
        }
        return out;
    }

    public Result tune(Consumer<Outcome> progress) {
        Instant deadline = Instant.now().plus(options.budget());
        List<AttentionShape> shapes = options.quick() ? QUICK_SHAPES : SHAPES;
        SplittableRandom rnd = new SplittableRandom(options.seed());
        List<Outcome> outcomes = new ArrayList<>();
        Set<List<Integer>> splitsSeen = new HashSet<>();
        try (Arena arena = Arena.ofConfined(); Inputs inputs = new Inputs(device, arena, shapes, rnd)) {
            for (AttentionConfig c : candidates(device.info(), options.quick())) {
                FusedAttention op = new FusedAttention(device, c);
                List<Integer> splits = shapes.stream().map(op::splitSize).toList();
                if (!splitsSeen.add(splits)) continue; // the same launches as a candidate already measured
                Outcome o = Instant.now().isAfter(deadline) ? new Outcome(c, Status.SKIPPED, Map.of(), 0, "budget spent")
                        : measure(op, shapes, inputs);
                outcomes.add(o);
                progress.accept(o);
            }
            List<AttentionConfig> finalists = new ArrayList<>(outcomes.stream().filter(o -> o.status() == Status.PASSED)
                    .sorted((a, b) -> Double.compare(b.score(), a.score())).limit(3).map(Outcome::config).toList());
            AttentionConfig standard = outcomes.getFirst().config();
            if (outcomes.getFirst().status() == Status.PASSED && !finalists.contains(standard)) finalists.add(standard);
            if (finalists.size() > 1 && Instant.now().isBefore(deadline)) {
                for (Outcome o : runOff(finalists, shapes, inputs)) {
                    outcomes.add(o);
                    progress.accept(o);
                }
            }
        }
        Status deciding = outcomes.stream().anyMatch(o -> o.status() == Status.FINALIST) ? Status.FINALIST : Status.PASSED;
        List<Outcome> ranked = outcomes.stream().filter(o -> o.status() == deciding).toList();
        Optional<Outcome> best = ranked.stream().max((a, b) -> Double.compare(a.score(), b.score()));
        Optional<Outcome> standard = ranked.stream().filter(o -> o.config().equals(AttentionConfig.forDevice(device.info()))).findFirst();
        Optional<Outcome> winner = best.map(b -> standard.isPresent() && b.score() < standard.get().score() * MARGIN ? standard.get() : b);
        return new Result(device.info(), shapes, List.copyOf(outcomes), winner);
    }

    /** Times the finalists round-robin, shape by shape (each has passed its check already). */
    private List<Outcome> runOff(List<AttentionConfig> finalists, List<AttentionShape> shapes, Inputs inputs) {
        int rounds = Math.max(5, options.reps());
        List<Map<String, Double>> gflops = new ArrayList<>();
        for (int f = 0; f < finalists.size(); f++) gflops.add(new LinkedHashMap<>());
        for (int i = 0; i < shapes.size(); i++) {
            AttentionProblem p = AttentionProblem.of(shapes.get(i));
            Inputs.One in = inputs.all.get(i);
            long[][] nanos = new long[finalists.size()][rounds];
            try (Buffer out = device.context().createBuffer(4L * p.shape().outputElements())) {
                for (int r = 0; r < rounds; r++) {
                    for (int f = 0; f < finalists.size(); f++) {
                        nanos[f][r] = new FusedAttention(device, finalists.get(f)).run(p, in.q(), in.k(), in.v(), out);
                    }
                }
            }
            for (int f = 0; f < finalists.size(); f++) {
                Arrays.sort(nanos[f]);
                gflops.get(f).put(label(p.shape()), p.flops() / Math.max(1, nanos[f][rounds / 2]));
            }
        }
        List<Outcome> out = new ArrayList<>();
        for (int f = 0; f < finalists.size(); f++) {
            double logSum = gflops.get(f).values().stream().mapToDouble(Math::log).sum();
            out.add(new Outcome(finalists.get(f), Status.FINALIST, gflops.get(f), Math.exp(logSum / shapes.size()),
                    "run-off, median of " + rounds + " round-robin rounds"));
        }
        return out;
    }

    private Outcome measure(FusedAttention op, List<AttentionShape> shapes, Inputs inputs) {
        Map<String, Double> gflops = new LinkedHashMap<>();
        double logSum = 0;
        try {
            for (int i = 0; i < shapes.size(); i++) {
                AttentionProblem p = AttentionProblem.of(shapes.get(i));
                Inputs.One in = inputs.all.get(i);
                int n = Math.toIntExact(p.shape().outputElements());
                float[] poison = new float[n];
                Arrays.fill(poison, Float.NaN);
                try (Buffer out = device.upload(poison)) {
                    op.run(p, in.q(), in.k(), in.v(), out);
                    double error = relativeError(in.want(), device.readFloats(out, n));
                    if (!(error <= AttentionReference.FLOAT32_BOUND)) {
                        return new Outcome(op.config(), Status.WRONG, Map.of(), 0, String.format(java.util.Locale.ROOT,
                                "relative error %.3g at %s (bound %.0g)", error, p.shape(), AttentionReference.FLOAT32_BOUND));
                    }
                    long[] nanos = new long[options.reps()];
                    for (int r = 0; r < nanos.length; r++) nanos[r] = op.run(p, in.q(), in.k(), in.v(), out);
                    Arrays.sort(nanos);
                    double g = p.flops() / Math.max(1, nanos[nanos.length / 2]);
                    gflops.put(label(p.shape()), g);
                    logSum += Math.log(g);
                }
            }
        } catch (RuntimeException e) {
            return new Outcome(op.config(), Status.FAILED, Map.of(), 0, String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
        return new Outcome(op.config(), Status.PASSED, gflops, Math.exp(logSum / shapes.size()), "");
    }

    /** {@code H8/2 Sq1 Skv4096 D128}. */
    public static String label(AttentionShape s) {
        return "H" + s.heads() + (s.kvHeads() != s.heads() ? "/" + s.kvHeads() : "") + " Sq" + s.queryLength() + " Skv" + s.kvLength() + " D" + s.headDim();
    }

    /** max |got - want| / max |want|; NaN or infinity anywhere (unwritten poison) is an infinite error. */
    static double relativeError(float[] want, float[] got) {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < want.length; i++) {
            if (!Float.isFinite(got[i])) return Double.POSITIVE_INFINITY;
            maxDiff = Math.max(maxDiff, Math.abs((double) got[i] - want[i]));
            maxRef = Math.max(maxRef, Math.abs(want[i]));
        }
        return maxDiff / (maxRef + 1e-30);
    }

    /** Q, K, V per shape on the device, and the reference output. */
    private static final class Inputs implements AutoCloseable {
        record One(Buffer q, Buffer k, Buffer v, float[] want) {}

        final List<One> all = new ArrayList<>();

        Inputs(OpenClDevice device, Arena arena, List<AttentionShape> shapes, SplittableRandom rnd) {
            try {
                for (AttentionShape s : shapes) {
                    float[] q = uniform(rnd, s.queryElements(), 2), k = uniform(rnd, s.kvElements(), 2), v = uniform(rnd, s.kvElements(), 1);
                    float[] want = AttentionReference.compute(AttentionProblem.of(s), q, k, v);
                    Buffer qb = device.upload(q), kb = null, vb = null;
                    try {
                        kb = device.upload(k);
                        vb = device.upload(v);
                    } catch (RuntimeException e) {
                        qb.close();
                        if (kb != null) kb.close();
                        throw e;
                    }
                    all.add(new One(qb, kb, vb, want));
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private static float[] uniform(SplittableRandom rnd, long n, double amplitude) {
            float[] a = new float[Math.toIntExact(n)];
            for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-amplitude, amplitude);
            return a;
        }

        @Override public void close() {
            for (One o : all) {
                o.q().close();
                o.k().close();
                o.v().close();
            }
        }
    }

    /** The winner as a database entry for this device and driver. */
    public static TunedEntry entry(Result result, Outcome winner) {
        Map<String, Double> g = new LinkedHashMap<>();
        winner.gflops().forEach((k, v) -> g.put(k, Math.round(v * 100) / 100.0));
        long passed = result.outcomes().stream().filter(o -> o.status() == Status.PASSED).count();
        long finalists = result.outcomes().stream().filter(o -> o.status() == Status.FINALIST).count();
        String note = String.format(java.util.Locale.ROOT, "GFLOPS per shape (fused attention, float32); %d distinct split choices, %d passed, "
                        + "%d in the run-off; load average %.2f",
                result.outcomes().size() - finalists, passed, finalists, java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        return new TunedEntry(AttentionConfig.OP, result.device().name(), result.device().driverVersion(), winner.config().toParams(), g,
                Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString(), note);
    }
}
