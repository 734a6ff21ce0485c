package dev.offload.cli;

import dev.offload.device.DeviceRegistry;
import dev.offload.io.OutputCheck;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.attention.AttentionConfig;
import dev.offload.ops.attention.AttentionShape;
import dev.offload.ops.attention.AttentionTuner;
import dev.offload.ops.gemm.GemmConfig;
import dev.offload.ops.gemm.Int8GemmTuner;
import dev.offload.tuning.TunedEntry;
import dev.offload.tuning.TuningDb;
import dev.offload.tuning.TuningStore;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import ch.qos.logback.classic.Level;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Searches kernel parameters on a device and stores the winners where the runtime looks for them. */
@Command(name = "tune", mixinStandardHelpOptions = true,
        description = {"Search kernel parameters (register block, inner loop, work-group) for an OpenCL device. Every "
                + "candidate is checked against the java reference before it is timed; a wrong one is rejected and listed. "
                + "The fastest (geometric mean of GOPS over a few representative shapes, device time, median of --reps) "
                + "is stored under the device's name and driver version.",
                "The runtime reads $OFFLOAD_CACHE_DIR/tuning.json (else ~/.cache/offload/tuning.json) first, then the "
                + "database kept in the repository, else built-in defaults. Exit code 0 when a winner was stored, 1 when "
                + "no candidate passed."})
public final class TuneCommand implements Callable<Integer> {
    /** The ops this command can tune. */
    static final List<String> OPS = List.of(GemmConfig.OP, AttentionConfig.OP);

    @Mixin CommonOptions common;

    @Option(names = "--device", paramLabel = "SPEC",
            description = "OpenCL device (cl:cpu, cl:gpu, cl:0:0, cl:name=...). Default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else CPU.")
    String device;

    @Option(names = "--ops", split = ",", paramLabel = "OP", description = "Ops to tune: int8_gemm, attention (default: all).")
    List<String> ops = new ArrayList<>();

    @Option(names = "--budget", paramLabel = "SECONDS", defaultValue = "600",
            description = "No candidate starts after this many seconds (default: ${DEFAULT-VALUE}).")
    double budget;

    @Option(names = "--db", paramLabel = "FILE",
            description = "Database file to update (default: the user cache, $OFFLOAD_CACHE_DIR/tuning.json, else ~/.cache/offload/tuning.json).")
    Path db;

    @Option(names = "--quick", description = "Smaller shapes and search space (seconds, for CI).")
    boolean quick;

    @Option(names = "--reps", paramLabel = "N", defaultValue = "3", description = "Timed runs per shape; the median counts (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed for the inputs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--family", paramLabel = "FAMILY", defaultValue = "default",
            description = "int8_gemm kernel families to search: default (GPUs and other non-CPU devices: tiled, then direct; "
                    + "CPUs: direct), direct (int8_gemm.cl), tiled (int8_gemm_tiled.cl, local-memory tiles; on a CPU a handful "
                    + "of parameter sets, slow there by design), all.")
    String family;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<String> chosenOps = ops.isEmpty() ? OPS : ops;
        for (String op : chosenOps) {
            if (!OPS.contains(op)) throw new UserError("--ops " + op + ": cannot tune it; tunable ops are " + String.join(", ", OPS));
        }
        if (!(budget > 0)) throw new UserError("--budget must be a positive number of seconds, got " + budget);
        if (reps < 1) throw new UserError("--reps must be at least 1, got " + reps);
        search(); // a wrong --family fails before any device opens
        DeviceRegistry registry = common.registry();
        Path file = db != null ? db : registry.settings().cache().tuningFile();
        new OutputCheck().output(db != null ? "--db" : "the tuning database", file).check();
        String chosen = device != null ? device : registry.defaultSpec();
        var resolved = registry.resolve(chosen).orElseThrow(() -> new UserError(
                "tune measures OpenCL kernels; '" + chosen + "' is not an OpenCL device ("
                        + registry.unavailableReason().orElse("pass --device cl:cpu or cl:gpu") + ")"));
        boolean allStored = true;
        Runnable restoreLogging = common.verbose ? () -> { } : quietProgramBuilds();
        try (OpenClDevice d = registry.open(resolved)) {
            out.printf(Locale.ROOT, "tuning on %s (driver %s), budget %.0f s%s, load average %.2f%n", d.description(),
                    d.info().driverVersion(), budget, quick ? ", quick" : "", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            out.flush();
            Instant deadline = Instant.now().plusMillis((long) (budget * 1000));
            for (String op : chosenOps) {
                allStored &= switch (op) {
                    case GemmConfig.OP -> tuneGemm(d, file, out, deadline);
                    case AttentionConfig.OP -> tuneAttention(d, file, out, deadline);
                    default -> throw new IllegalStateException("no tuner for " + op);
                };
            }
        } finally {
            restoreLogging.run();
        }
        return allStored ? 0 : 1;
    }

    /** Each candidate builds its own program: those log lines would bury the table. Returns what undoes it. */
    private static Runnable quietProgramBuilds() {
        if (LoggerFactory.getLogger("dev.offload.bitstream") instanceof ch.qos.logback.classic.Logger l) {
            Level before = l.getLevel();
            l.setLevel(Level.WARN);
            return () -> l.setLevel(before);
        }
        return () -> { };
    }

    /** What is left of the budget (at least a moment, so a later op still measures its default). */
    private static Duration left(Instant deadline) {
        Duration d = Duration.between(Instant.now(), deadline);
        return d.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : d;
    }

    /** --family as the tuner's search. */
    private Int8GemmTuner.Search search() {
        try {
            return Int8GemmTuner.Search.valueOf(family.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("--family " + family + " is not one of default, direct, tiled, all");
        }
    }

    private boolean tuneGemm(OpenClDevice d, Path file, PrintWriter out, Instant deadline) {
        TuningStore store = new TuningStore(file, TuningStore.standard().repository());
        out.println("int8_gemm: now " + GemmConfig.resolve(d.info(), store).describe());
        List<Int8GemmTuner.Shape> shapes = quick ? Int8GemmTuner.QUICK_SHAPES : Int8GemmTuner.SHAPES;
        out.println("shapes (MxKxN): " + String.join(", ", shapes.stream().map(Int8GemmTuner.Shape::label).toList())
                + "; GOPS = median of " + reps + " after a checked run");
        String head = String.format(Locale.ROOT, "  %-44s %-8s", "candidate", "status");
        for (Int8GemmTuner.Shape s : shapes) head += String.format(Locale.ROOT, " %15s", s.label());
        out.println(head + String.format(Locale.ROOT, " %9s", "geomean"));
        out.flush();
        Int8GemmTuner tuner = new Int8GemmTuner(d, new Int8GemmTuner.Options(quick, left(deadline), reps, seed, search()));
        Int8GemmTuner.Result result = tuner.tune(o -> {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-44s %-8s", o.config().brief(), o.status().name().toLowerCase(Locale.ROOT)));
            if (o.status() == Int8GemmTuner.Status.PASSED || o.status() == Int8GemmTuner.Status.FINALIST) {
                for (Int8GemmTuner.Shape s : shapes) line.append(String.format(Locale.ROOT, " %15.1f", o.gops().get(s.label())));
                line.append(String.format(Locale.ROOT, " %9.1f", o.score()));
            } else if (!o.detail().isEmpty()) {
                line.append("  ").append(o.detail());
            }
            out.println(line);
            out.flush();
        });
        out.printf("%d candidates: %d passed, %d rejected as wrong, %d failed to build or run, %d skipped (budget); "
                        + "finalists re-timed round-robin decide%n",
                result.outcomes().size() - result.count(Int8GemmTuner.Status.FINALIST), result.count(Int8GemmTuner.Status.PASSED), result.count(Int8GemmTuner.Status.WRONG),
                result.count(Int8GemmTuner.Status.FAILED), result.count(Int8GemmTuner.Status.SKIPPED));
        if (result.winner().isEmpty()) {
            out.println("int8_gemm: no candidate passed; nothing stored");
            out.flush();
            return false;
        }
        Int8GemmTuner.Outcome w = result.winner().get();
        TunedEntry entry = Int8GemmTuner.entry(result, w);
        TuningDb.read(file).with(entry).write(file);
        out.printf(Locale.ROOT, "int8_gemm: winner %s (%.1f GOPS geometric mean), stored in %s%n", w.config().describe(), w.score(), file);
        out.println("int8_gemm: the runtime now uses " + GemmConfig.resolve(d.info(), store).describe());
        out.flush();
        return true;
    }

    private boolean tuneAttention(OpenClDevice d, Path file, PrintWriter out, Instant deadline) {
        TuningStore store = new TuningStore(file, TuningStore.standard().repository());
        out.println("attention: now " + AttentionConfig.resolve(d.info(), store).describe());
        List<AttentionShape> shapes = quick ? AttentionTuner.QUICK_SHAPES : AttentionTuner.SHAPES;
        String head = String.format(Locale.ROOT, "  %-26s %-8s", "candidate (GFLOPS)", "status");
        for (AttentionShape s : shapes) head += String.format(Locale.ROOT, " %22s", AttentionTuner.label(s));
        out.println(head + String.format(Locale.ROOT, " %9s", "geomean"));
        out.flush();
        AttentionTuner.Result result = new AttentionTuner(d, new AttentionTuner.Options(quick, left(deadline), reps, seed)).tune(o -> {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-44s %-8s", o.config().brief(), o.status().name().toLowerCase(Locale.ROOT)));
            if (o.status() == AttentionTuner.Status.PASSED || o.status() == AttentionTuner.Status.FINALIST) {
                for (AttentionShape s : shapes) line.append(String.format(Locale.ROOT, " %22.2f", o.gflops().get(AttentionTuner.label(s))));
                line.append(String.format(Locale.ROOT, " %9.2f", o.score()));
            } else if (!o.detail().isEmpty()) {
                line.append("  ").append(o.detail());
            }
            out.println(line);
            out.flush();
        });
        if (result.winner().isEmpty()) {
            out.println("attention: no candidate passed; nothing stored");
            out.flush();
            return false;
        }
        AttentionTuner.Outcome w = result.winner().get();
        TuningDb.read(file).with(AttentionTuner.entry(result, w)).write(file);
        out.printf(Locale.ROOT, "attention: winner %s (%.2f GFLOPS geometric mean; the default stays unless %.0f%% faster), stored in %s%n",
                w.config().describe(), w.score(), (AttentionTuner.MARGIN - 1) * 100, file);
        out.flush();
        return true;
    }
}
