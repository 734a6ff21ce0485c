package dev.offload.bench;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    @Option(names = "--json", description = "Write the rows as JSON (schema offload.bench/1).")
    Path json;

    @Option(names = "--chart", description = "Write an SVG bar chart.")
    Path chart;

    @Option(names = "--threads", description = "Threads for every peer (ONNX Runtime intra-op) and the CPU device; default: all cores.")
    int threads = Runtime.getRuntime().availableProcessors();

    /** The benchmark sections, in the order they run. */
    public enum Section { launch }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = new PrintWriter(System.out, true);
        Report report = new Report();
        report.environment("cores", Runtime.getRuntime().availableProcessors());
        report.environment("java", System.getProperty("java.version"));
        report.environment("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        report.environment("quick", quick);
        List<Section> run = sections.isEmpty() ? List.of(Section.values()) : sections;
        for (Section s : run) {
            System.err.println("bench: " + s + " ...");
            switch (s) {
                case launch -> LaunchOverhead.run(report, quick);
            }
        }
        report.printTable(out);
        if (json != null) report.writeJson(json);
        if (chart != null) report.writeSvg(chart);
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchMain()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }
}
