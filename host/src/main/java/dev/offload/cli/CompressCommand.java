package dev.offload.cli;

import dev.offload.compress.CompressedModelFile;
import dev.offload.compress.CompressionReport;
import dev.offload.compress.CompressionRun;
import dev.offload.compress.CompressionSpec;
import dev.offload.compress.HeadImportance;
import dev.offload.compress.Method;
import dev.offload.compress.SentenceSet;
import dev.offload.io.InputFile;
import dev.offload.io.OutputCheck;
import dev.offload.model.UnsupportedModelException;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.PlacementSpec;
import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EncoderSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code offload compress}: prune or factorize an int8 encoder and write it as an ONNX file that {@code run} loads, optionally with
 * a report of what it cost in accuracy and bought in speed. The work is dev.offload.compress's; this class reads and
 * checks the options (every problem is one line and exit 2, before anything is written).
 */
@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Compress an int8 encoder (pruning, low-rank factorization) into an ONNX file that run loads; --report/--chart measure accuracy and speed against the original.")
public final class CompressCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--model", paramLabel = "FILE.onnx|NAME", defaultValue = "all-minilm-l6-v2-q",
            description = "The int8 encoder: a known model (all-minilm-l6-v2-q, bge-small-en-v15-q) or an .onnx file. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--method", required = true, paramLabel = "METHOD",
            description = "magnitude (per-row sparsity), 2:4, block (BSR blocks), ffn-neurons, heads (structured), low-rank, int4.")
    String method;

    @Option(names = "--target", paramLabel = "T[,T...]", defaultValue = "0.5",
            description = "magnitude/block: sparsity; ffn-neurons/heads: fraction removed; low-rank: energy kept in (0, 1]; a comma list sweeps (one file each). Default: ${DEFAULT-VALUE}.")
    String target;

    @Option(names = "--importance", paramLabel = "activation|magnitude",
            description = "heads: how heads are ranked (the weakest go). activation (default): mean L2 norm of each head's"
                    + " contribution to the attention output (its context times its output-projection rows) over the built-in"
                    + " set's last 64 sentences, which the built-in report then leaves out; magnitude: |Q,K,V columns| x |output rows|.")
    String importance;

    @Option(names = "--block", paramLabel = "RxC", defaultValue = CompressionSpec.BLOCK_ROWS + "x" + CompressionSpec.BLOCK_COLS,
            description = "block: R output channels x C inputs per block. Default: ${DEFAULT-VALUE}.")
    String block;

    @Option(names = "--out", required = true, paramLabel = "FILE.onnx",
            description = "The compressed model (tokenizer.json is written beside it); with several targets, FILE-T.onnx each.")
    Path out;

    @Option(names = "--report", paramLabel = "FILE.md", description = "Write the accuracy/speed report (markdown).")
    Path report;

    @Option(names = "--chart", paramLabel = "FILE.svg", description = "Write the accuracy-against-speed chart (SVG).")
    Path chart;

    @Option(names = "--sentences", paramLabel = "FILE", description = "Sentences for the report, one a line (default: the 600 built in, 536 for heads by activation; see docs/compress).")
    Path sentences;

    @Option(names = "--device", paramLabel = "SPEC", description = "Where the report's runs go: java, cl:cpu, cl:0:0, ... Default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else CPU.")
    String device;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", description = "Sentences per batch for the report (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "2", description = "Timed passes over the sentences; the fastest counts (default ${DEFAULT-VALUE}).")
    int repeats;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        common.binding();   // applies --verbose
        PrintWriter stdout = spec.commandLine().getOut();
        if (batch < 1) throw new UserError("--batch must be at least 1, got " + batch);
        if (repeats < 1) throw new UserError("--repeats must be at least 1, got " + repeats);
        Method m;
        List<Double> targets;
        int[] rc;
        HeadImportance ranking;
        try {
            m = Method.parse(method);
            targets = targets(target);
            rc = block(block);
            if (importance != null && m != Method.HEADS) throw new IllegalArgumentException("--importance " + importance + ": used only by --method heads");
            ranking = importance == null ? HeadImportance.ACTIVATION : HeadImportance.parse(importance);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        EncoderSource src = EncoderSource.parse(model, null);
        Path modelFile = src instanceof EncoderSource.OnnxFile f ? f.onnx() : null;
        List<CompressionSpec> specs = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        for (double t : targets) {
            specs.add(new CompressionSpec(m, t, rc[0], rc[1], ranking));
            files.add(targets.size() == 1 ? out : withTarget(out, t));
        }
        if (sentences != null && report == null && chart == null) {
            throw new UserError("--sentences " + sentences + ": used only by --report or --chart; give one of them or leave it out");
        }
        OutputCheck check = new OutputCheck().input("--model", modelFile).input("--sentences", sentences)
                .output("--report", report).output("--chart", chart);
        for (Path f : files) check.output("--out", f).output("--out (its tokenizer.json)", f.toAbsolutePath().resolveSibling("tokenizer.json"));
        List<String> texts = null;
        // Calibration uses the built-in set's last sentences: the built-in report is then over the others only.
        boolean calibrated = specs.getFirst().needsCalibration();
        CompressedModelFile.Source source;
        try {
            check.check();
            if (report != null || chart != null) texts = sentences != null ? SentenceSet.lines(readText(sentences))
                    : calibrated ? SentenceSet.evaluation() : SentenceSet.builtIn();
            if (texts != null && texts.size() < 2) throw new UserError("--sentences " + sentences + ": needs at least 2 sentences, has " + texts.size());
            source = CompressedModelFile.Source.read(src);
            for (CompressionSpec s : specs) s.check(source.model().config());
        } catch (IllegalArgumentException | UnsupportedModelException e) {
            throw new UserError(e.getMessage());
        }
        EmbeddingOptions options;
        try {
            options = EmbeddingOptions.defaults().withPlacement(PlacementSpec.fromOptions(device, null))
                    .withRegistry(common.registry()).withBatchSize(batch);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        CompressionRun run = new CompressionRun(source, specs, files, options, texts,
                sentences != null ? sentences.toString() : "built in: KJV verses (public domain) and offload's own sentences"
                        + (calibrated ? ", without the last " + SentenceSet.CALIBRATION_SENTENCES + " (the calibration sentences)" : ""), repeats);
        try {
            List<CompressionRun.Written> written = run.compressAndWrite(stdout);
            if (texts != null) {
                CompressionReport r = run.measure(written, commandLine(), stdout);
                CompressionRun.writeReport(r, report, chart);
                stdout.print(r.markdown());
            }
        } catch (IllegalArgumentException | UnsupportedModelException | GraphRuntime.FallbackRefused e) {
            throw new UserError(e.getMessage());
        }
        stdout.flush();
        return 0;
    }

    private String commandLine() {
        // 2:4 and int4 ignore --target: the report's command leaves it out rather than show a value that did nothing.
        boolean targeted = m() != Method.TWO_FOUR && m() != Method.INT4;
        return "offload compress --model " + model + " --method " + method + (targeted ? " --target " + target : "")
                + (m() == Method.BLOCK ? " --block " + block : "") + (importance != null ? " --importance " + importance : "") + " --out " + out + (sentences != null ? " --sentences " + sentences : "");
    }

    private Method m() { return Method.parse(method); }

    static List<Double> targets(String text) {
        List<Double> t = new ArrayList<>();
        for (String s : text.split(",")) {
            try {
                t.add(Double.parseDouble(s.strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--target " + text + ": '" + s.strip() + "' is not a number");
            }
        }
        return t;
    }

    static int[] block(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.matches("\\d+x\\d+")) {
            String[] p = s.split("x");
            return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
        }
        throw new IllegalArgumentException("--block " + text + ": use RxC, e.g. 16x4");
    }

    /** FILE.onnx -> FILE-0.5.onnx. */
    static Path withTarget(Path file, double t) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name, ext = dot > 0 ? name.substring(dot) : "";
        return file.resolveSibling(stem + "-" + String.format(Locale.ROOT, "%s", t).replaceAll("\\.0$", "") + ext);
    }

    private static String readText(Path file) {
        try {
            return InputFile.readUtf8("--sentences " + file, file);   // strict UTF-8, the file named in the error
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }
}
