package dev.offload.bench;

import dev.offload.tensor.DType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Time to first result of a fresh process: wall time of a child JVM running {@code offload gemm-int8} (one INT8
 * GEMM, result written), (1) compiling its program from source (empty program cache, empty bitstream store,
 * PoCL's own kernel cache off), (2) again with the program cache the first run filled, and (3) from a bitstream
 * store built beforehand by {@code offload bitstreams build --store} (fresh program cache, PoCL cache off).
 * Ratios: cold time / this time.
 */
final class StartupBench {
    private StartupBench() {}

    static void run(Report report, String deviceSpec, boolean quick) {
        Path dir;
        try {
            dir = Files.createTempDirectory("offload-bench-startup");
        } catch (IOException e) {
            throw new UncheckedIOException("creating a temporary directory for the startup section", e);
        }
        try {
            int m = 64, k = 256, n = 256;
            SplittableRandom rnd = new SplittableRandom(3);
            Npy.write(dir.resolve("a.npy"), NpyArray.ofBytes(DType.UINT8, GemmBench.randomBytes(rnd, (long) m * k), m, k));
            Npy.write(dir.resolve("b.npy"), NpyArray.ofBytes(DType.INT8, GemmBench.randomBytes(rnd, (long) k * n), k, n));
            List<String> gemm = List.of("gemm-int8", "--a", dir.resolve("a.npy").toString(), "--b", dir.resolve("b.npy").toString(),
                    "--a-zero-point", "121", "--out", dir.resolve("c.npy").toString(), "--device", deviceSpec);
            Path emptyStore = mkdir(dir.resolve("empty-store")), cache = dir.resolve("cache"), store = dir.resolve("store");
            String name = "gemm-int8 " + m + "x" + k + "x" + n + " child JVM";

            double cold = child("from source", gemm, Map.of("OFFLOAD_CACHE_DIR", cache.toString(),
                    "OFFLOAD_BITSTREAMS", emptyStore.toString(), "POCL_KERNEL_CACHE", "0"), dir);
            if (Double.isNaN(cold)) return;
            report.add(new BenchRow("startup", name, "offload-cold", deviceSpec, cold / 1e6, 1e9 / cold, "runs/s", 1.0,
                    "empty program cache and store, POCL_KERNEL_CACHE=0; " + origins(dir)));

            double cached = child("program cache", gemm, Map.of("OFFLOAD_CACHE_DIR", cache.toString(),
                    "OFFLOAD_BITSTREAMS", emptyStore.toString(), "POCL_KERNEL_CACHE", "0"), dir);
            if (!Double.isNaN(cached)) {
                report.add(new BenchRow("startup", name, "offload-cached", deviceSpec, cached / 1e6, 1e9 / cached, "runs/s",
                        cold / cached, "program cache from the run before; ratio = cold time / this time; " + origins(dir)));
            }

            if (quick) {
                Peer.note("startup: the bitstream-store case is left out in --quick (its build and run take 10-20 s here)");
            } else {
                fromStore(report, deviceSpec, gemm, cold, name, dir, store);
            }

            // The floor: the same command on the java device (JVM start, CLI, .npy I/O; no OpenCL at all).
            List<String> onJava = new ArrayList<>(gemm);
            onJava.set(onJava.size() - 1, "java");
            double java = child("java device", onJava, Map.of(), dir);
            if (!Double.isNaN(java)) {
                report.add(new BenchRow("startup", name, "java-device", "java", java / 1e6, 1e9 / java, "runs/s", cold / java,
                        "same command with --device java: JVM start and CLI, no OpenCL; ratio = cold time / this time"));
            }
        } finally {
            delete(dir);
        }
    }

    /** {@code bitstreams build --store} for the GEMM's family, then the same command loading from that store. */
    private static void fromStore(Report report, String deviceSpec, List<String> gemm, double cold, String name, Path dir, Path store) {
        List<String> build = List.of("bitstreams", "build", "--store", store.toString(), "--ops", "int8_gemm", "--device", deviceSpec);
        double buildNs = child("bitstreams build", build, Map.of("OFFLOAD_CACHE_DIR", mkdir(dir.resolve("build-cache")).toString(),
                "POCL_KERNEL_CACHE", "0"), dir);
        if (Double.isNaN(buildNs)) return;
        List<String> fromStore = new ArrayList<>(gemm);
        fromStore.addAll(List.of("--store", store.toString()));
        double stored = child("bitstream store", fromStore, Map.of("OFFLOAD_CACHE_DIR", dir.resolve("store-cache").toString(),
                "POCL_KERNEL_CACHE", "0"), dir);
        if (Double.isNaN(stored)) return;
        report.add(new BenchRow("startup", name, "offload-bitstream", deviceSpec, stored / 1e6, 1e9 / stored, "runs/s",
                cold / stored, String.format(java.util.Locale.ROOT,
                "store from 'bitstreams build --store' (%.1f s); fresh cache; ratio = cold time / this time; %s", buildNs / 1e9,
                origins(dir))));
    }

    /**
     * Where the child's programs came from, counted from its INFO log lines (BitstreamProgramSource): a run
     * meant to load from the store that compiled instead shows it here.
     */
    private static String origins(Path dir) {
        String log;
        try {
            log = Files.readString(dir.resolve("child.log"));
        } catch (IOException e) {
            return "programs: (no log)";
        }
        return "programs: " + count(log, "loaded from store") + " from store, " + count(log, ": cache hit") + " from cache, "
                + count(log, "compiled from source") + " compiled";
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) n++;
        return n;
    }

    /** Wall nanoseconds of {@code offload ARGS} in a child JVM with extra environment, or NaN (noted) if it fails. */
    private static double child(String what, List<String> args, Map<String, String> env, Path dir) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.offload.cli.Main");
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile());
        pb.environment().put("OFFLOAD_LOG_LEVEL", "INFO");   // origins() counts the program-source lines
        pb.environment().putAll(env);
        try {
            long t0 = System.nanoTime();
            int rc = pb.start().waitFor();
            long ns = System.nanoTime() - t0;
            if (rc != 0) {
                Peer.note("startup: " + what + " child exited with " + rc + ": " + tail(dir.resolve("child.log")));
                return Double.NaN;
            }
            System.err.printf("bench: startup: %s: %.2f s%n", what, ns / 1e9);
            return ns;
        } catch (IOException e) {
            Peer.note("startup: could not start a child JVM (" + e.getMessage() + ")");
            return Double.NaN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private static Path mkdir(Path p) {
        try {
            return Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException("creating " + p, e);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            Peer.note("could not delete " + dir + " (" + e.getMessage() + ")");
        }
    }
}
