package dev.offload.bench;

import dev.offload.bitstream.ProgramStore;
import dev.offload.cl.Device;
import dev.offload.config.OffloadSettings;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./offload bench}: every section measures offload and its peer in the same run, on the same cores,
 * and prints medians and ratios. No thresholds: the numbers go into README.md.
 */
@Command(name = "offload bench", mixinStandardHelpOptions = true,
        description = "Benchmarks against peers measured in the same run (medians, GOPS/GFLOPS, ratios).")
public final class BenchMain implements Callable<Integer> {
    @Option(names = "--quick", description = "Small shapes and few repetitions (CI: figures printed, no thresholds).")
    boolean quick;

    @Option(names = "--device", description = "OpenCL device spec for offload (default: the default device).")
    String device;

    @Option(names = "--sections", split = ",", description = "Sections to run (default: all): ${COMPLETION-CANDIDATES}")
    List<Section> sections = new ArrayList<>();

    @Option(names = "--decode-models", split = ",", description = "The decode section's models: demo (offload's demo model, its speed and"
            + " perplexity rows, a minute), seeded (small and 1b in q8_0, q4_0, q4_k_m; --quick: tiny), seeded ones by name"
            + " (small-q4_k_m, 1b-q8_0, gemma3_1b-q4_0: a Gemma-3-1B-shaped gemma3 file, ...), or all (the default).")
    List<String> decodeModels = new ArrayList<>();

    @Option(names = "--json", description = "Write the rows as JSON (schema offload.bench/1).")
    Path json;

    @Option(names = "--chart", description = "Write an SVG bar chart.")
    Path chart;

    @Option(names = "--threads", description = "Threads for every peer (ONNX Runtime intra-op) and the CPU device; default: all cores.")
    int threads = Runtime.getRuntime().availableProcessors();

    /** The environment's settings (binding, default device, caches), read once here at the edge. */
    private final OffloadSettings settings = OffloadSettings.fromEnvironment();

    /** The benchmark sections, in the order they run. */
    public enum Section { gemm, blockq, sgemm, sparse, compress, e2e, decode, startup, overhead, attention, launch, serve }

    /** Runs a section on the chosen OpenCL device (opened with the program store and cache installed, as the CLI does). */
    private void withDevice(java.util.function.Consumer<OpenClDevice> section) {
        DeviceRegistry registry = DeviceRegistry.discover(settings).onOpen(ProgramStore.of(settings)::install);
        String spec = device != null ? device : registry.defaultSpec();
        Optional<Device> d = registry.resolve(spec);
        if (d.isEmpty()) {
            Peer.note("no OpenCL device (" + registry.unavailableReason().orElse(spec) + "); section skipped");
            return;
        }
        try (OpenClDevice cl = registry.open(d.get())) {
            section.accept(cl);
        }
    }

    /** The OpenCL device spec offload runs on (the registry's default unless --device), or "java" without OpenCL. */
    private String deviceSpec() {
        if (device != null) return device;
        DeviceRegistry registry = DeviceRegistry.discover(settings);
        return registry.resolve(registry.defaultSpec()).map(Device::spec).orElse("java");
    }

    private void sgemm() {
        DeviceRegistry registry = DeviceRegistry.discover(settings);
        Optional<Device> d = registry.resolve(device != null ? device : registry.defaultSpec());
        if (d.isEmpty()) Peer.note("sgemm: no OpenCL device; skipped");
        else SgemmBench.run(report, d.get(), quick);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = new PrintWriter(System.out, true);
        report.environment("cores", Runtime.getRuntime().availableProcessors());
        report.environment("java", System.getProperty("java.version"));
        report.environment("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        report.environment("quick", quick);
        report.environment("threads", threads);
        report.environment("loadAverage", loadAverage());
        String pocl = System.getenv("POCL_MAX_PTHREAD_COUNT");
        report.environment("POCL_MAX_PTHREAD_COUNT", pocl == null ? "unset" : pocl);
        if (threads != Runtime.getRuntime().availableProcessors() && pocl == null) {
            Peer.note("--threads " + threads + " sets the peers' threads; PoCL's are set by POCL_MAX_PTHREAD_COUNT (unset)");
        }
        List<Section> failed = new ArrayList<>();
        List<Section> run = sections.isEmpty() ? List.of(Section.values()) : sections;
        for (Section s : run) {
            if (s == Section.sgemm && quick && sections.isEmpty()) {
                // CLBlast compiles its kernels for 6-9 s on its first call: too long for CI's quick run.
                Peer.note("sgemm (CLBlast) skipped in --quick: its first call compiles for 6-9 s; run it with --sections sgemm");
                continue;
            }
            System.err.println("bench: " + s + " ...");
            long t0 = System.nanoTime();
            try {
                runSection(s);
            } catch (Exception | LinkageError e) {
                // Peers never get here (they are notes); this is offload failing: finish the others, then exit 1.
                System.err.println("bench: section " + s + " FAILED:");
                e.printStackTrace();
                failed.add(s);
            }
            System.err.printf(Locale.ROOT, "bench: %s took %.1f s%n", s, (System.nanoTime() - t0) / 1e9);
        }
        report.environment("loadAverageAfter", loadAverage());
        report.printTable(out);
        if (json != null) report.writeJson(json);
        if (chart != null) report.writeSvg(chart);
        if (!failed.isEmpty()) {
            System.err.println("bench: failed sections: " + failed);
            return 1;
        }
        return 0;
    }

    private void runSection(Section s) throws Exception {
        switch (s) {
            case gemm -> withDevice(d -> GemmBench.run(report, d, quick, threads));
            case blockq -> withDevice(d -> BlockqBench.run(report, d, quick));
            case sgemm -> sgemm();
            case sparse -> withDevice(d -> SparseBench.run(report, d, quick));
            case compress -> CompressBench.run(report, deviceSpec(), quick);
            case e2e -> EndToEndBench.run(report, deviceSpec(), quick, threads);
            case decode -> DecodeBench.run(report, deviceSpec(), settings.cache(), quick, threads, decodeModels);
            case startup -> StartupBench.run(report, deviceSpec(), quick);
            case overhead -> withDevice(d -> OverheadBench.run(report, d, quick));
            case launch -> LaunchOverhead.run(report, quick);
            case attention -> withDevice(d -> AttentionBench.run(report, d, quick));
            case serve -> ServeBench.run(report, deviceSpec(), quick, threads);
        }
    }

    private final Report report = new Report();

    /** The 1-minute load average: the machine may be shared, and the figures mean less when it is busy. */
    private static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchMain()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }
}
