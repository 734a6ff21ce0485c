package dev.offload.cli;

import dev.offload.model.EncoderGraph;
import dev.offload.model.EncoderModel;
import dev.offload.model.EncoderReference;
import dev.offload.model.EncoderRunner;
import dev.offload.model.EncoderRunners;
import dev.offload.model.GraphEncoderRunner;
import dev.offload.model.ModelCatalog;
import dev.offload.model.OrtCheck;
import dev.offload.model.Pooling;
import dev.offload.model.TokenBatch;
import dev.offload.model.UnsupportedModelException;
import dev.offload.model.onnx.EncoderImporter;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import dev.offload.profile.ProfileReport;
import dev.offload.profile.ProfileTable;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.GraphRuntime;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The main job: embed sentences with a real (int8) transformer encoder. Tokenize, run the encoder in batches
 * on a device, pool and L2-normalize; print the cosine-similarity matrix and throughput; optionally write
 * embeddings, hidden states and token ids as .npy, and compare with ONNX Runtime ({@code --check}).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Embed sentences with a transformer encoder (default: the int8 all-MiniLM-L6-v2 shipped with offload).")
public final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    /** Two pairs of paraphrases among unrelated sentences: the similarity matrix should show them. */
    static final List<String> BUILT_IN = List.of(
            "A man is playing a guitar on stage.",
            "Someone performs music with a guitar in front of an audience.",
            "The stock market fell sharply this morning.",
            "Share prices dropped steeply at the opening bell.",
            "My cat sleeps on the windowsill all afternoon.",
            "Quantum computers use qubits instead of bits.");

    @Mixin CommonOptions common;

    @Mixin ProfileOutputs outputs;

    @Option(names = "--model", paramLabel = "FILE.onnx|NAME", defaultValue = "all-minilm-l6-v2-q",
            description = "An ONNX encoder file, or a known model: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.",
            completionCandidates = ModelNames.class)
    String model;

    @Option(names = "--tokenizer", paramLabel = "FILE.json", description = "tokenizer.json (default: the known model's, or tokenizer.json next to FILE.onnx).")
    Path tokenizer;

    @Option(names = "--input", paramLabel = "FILE", description = "Texts, one per line ('-' reads stdin). Default: a built-in handful.")
    String input;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", description = "Sentences per batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--max-length", paramLabel = "N", description = "Truncate to N tokens with [CLS] and [SEP] (default: the tokenizer's, else the model's positions).")
    Integer maxLength;

    @Option(names = "--device", paramLabel = "SPEC", description = "Device: java (the pure-Java reference), cl:cpu, cl:0:0, ... Default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else CPU.")
    String device;

    @Option(names = "--placement", paramLabel = "RULES|auto", description = "Per op kind or node: attention=cl:gpu,linear=cl:0:0,*=cl:cpu; or 'auto' (measured, cached).")
    String placement;

    @Option(names = "--profile", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Print the per-layer profile table of the OpenCL runs (default on; --no-profile turns it off).")
    boolean profile;



    @Option(names = "--prune", paramLabel = "2:4|SPARSITY", description = "Magnitude-prune the int8 weights at load (2:4, or e.g. 0.5 per output channel as CSR) and run the sparse kernels; the dense model runs too, for the accuracy and speed comparison.")
    String prune;


    @Option(names = "--quantize", paramLabel = "int8", description = "Quantize a float model's linear weights to int8 per output channel at load.")
    String quantize;

    @Option(names = "--output", paramLabel = "FILE.npy", description = "Write the sentence embeddings, float32 [N, H].")
    Path output;

    @Option(names = "--hidden-states", paramLabel = "FILE.npy", description = "Write last_hidden_state, float32 [N, S, H] (padded rows as computed).")
    Path hiddenStates;

    @Option(names = "--token-ids", paramLabel = "FILE.npy", description = "Write the token ids fed to the model, int64 [N, S] (padded).")
    Path tokenIds;

    @Option(names = "--check", description = "Also run ONNX Runtime (needs its jar on the class path) on each sentence and report cosines.")
    boolean check;

    @Spec CommandSpec spec;

    static final class ModelNames extends ArrayList<String> {
        ModelNames() { super(ModelCatalog.ids()); }
    }

    @Override
    public Integer call() throws IOException {
        common.binding();  // applies --verbose
        PrintWriter out = spec.commandLine().getOut();
        if (batch < 1) throw new UserError("--batch must be at least 1, got " + batch);
        if (device != null && placement != null) throw new UserError("give --device or --placement, not both");
        EncoderGraph.Prune pruning;
        try {
            pruning = prune == null ? null : EncoderGraph.Prune.parse(prune);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        try {
            return embed(out, pruning);
        } catch (UnsupportedModelException e) {
            throw new UserError(e.getMessage());
        } catch (GraphRuntime.FallbackRefused e) {
            throw new UserError(e.getMessage());
        } finally {
            if (pool != null) pool.close();
        }
    }

    private int embed(PrintWriter out, EncoderGraph.Prune pruning) throws IOException {

        // 1. Model and tokenizer.
        ModelCatalog known = ModelCatalog.byId(model);
        byte[] onnx;
        byte[] tokenizerJson;
        Pooling pooling;
        String tokenizerName;
        try {
            if (known != null) {
                onnx = known.onnxBytes();
                pooling = known.pooling;
            } else {
                Path file = Path.of(model);
                if (!Files.isRegularFile(file)) {
                    throw new UserError("--model " + model + ": no such file, and not a known model (" + String.join(", ", ModelCatalog.ids()) + ")");
                }
                onnx = null; // memory-mapped by EncoderImporter.importFile below
                pooling = Pooling.MEAN;
            }
            Path tokFile = tokenizer != null ? tokenizer : known == null ? Path.of(model).resolveSibling("tokenizer.json") : null;
            if (tokFile != null) {
                if (!Files.isRegularFile(tokFile)) throw new UserError("tokenizer " + tokFile + ": no such file (give --tokenizer FILE.json)");
                tokenizerJson = Files.readAllBytes(tokFile);
                tokenizerName = tokFile.toString();
            } else {
                tokenizerJson = known.tokenizerBytes();
                tokenizerName = known.tokenizerEntry;
            }
        } catch (UnsupportedModelException e) {
            throw new UserError(e.getMessage());
        }
        long t0 = System.nanoTime();
        EncoderModel encoder;
        WordPieceTokenizer tok;
        try {
            encoder = known != null ? EncoderImporter.importBytes(onnx, known.onnxEntry) : EncoderImporter.importFile(Path.of(model));
            tok = WordPieceTokenizer.fromJson(tokenizerJson, tokenizerName);
        } catch (UnsupportedModelException e) {
            throw new UserError(e.getMessage());
        }
        if (quantize != null) {
            if (!quantize.equals("int8")) throw new UserError("--quantize " + quantize + ": only int8 is supported");
            if (encoder.quantized()) out.println("note: the model is already int8; --quantize int8 changes nothing");
            else encoder = encoder.quantizeInt8();
        }
        double loadMs = (System.nanoTime() - t0) / 1e6;
        int maxLen = maxLength != null ? maxLength
                : Math.min(encoder.config().maxPositions(), tok.fileMaxLength() > 0 ? tok.fileMaxLength() : Integer.MAX_VALUE);
        if (maxLen > encoder.config().maxPositions()) throw new UserError("--max-length " + maxLen + " exceeds the model's " + encoder.config().maxPositions() + " positions");

        // 2. Texts and token ids.
        List<String> texts = readTexts();
        if (texts.isEmpty()) throw new UserError("no input texts");
        List<TokenBatch.Sequence> seqs = new ArrayList<>(texts.size());
        int truncated = 0;
        for (String text : texts) {
            TokenBatch.Sequence s = tok.encode(text, maxLen);
            if (s.ids().length == maxLen && tok.ids(text).size() > maxLen - 2) truncated++;
            seqs.add(s);
        }
        // With .npy outputs of per-token data every batch is padded to one length, so the arrays stack.
        boolean uniform = hiddenStates != null || tokenIds != null;
        int globalLength = seqs.stream().mapToInt(s -> s.ids().length).max().orElse(0);

        // 3. Run.
        try (EncoderRunner runner = openRunner(encoder, pooling, pruning)) {
            var c = encoder.config();
            out.printf("model:  %s (%d layers, hidden %d, %d heads, %s, %.1f MB linear weights), loaded in %.0f ms%n",
                    encoder.name(), c.layers(), c.hidden(), c.heads(), encoder.quantized() ? "int8" : "float32",
                    encoder.linearWeightBytes() / 1e6, loadMs);
            out.printf("device: %s%n", runner.device());
            out.printf("input:  %d texts, %d tokens (max length %d%s), batch %d, %s pooling%n", texts.size(),
                    seqs.stream().mapToInt(s -> s.ids().length).sum(), maxLen, truncated > 0 ? ", " + truncated + " truncated" : "",
                    batch, pooling.name().toLowerCase(java.util.Locale.ROOT));
            int h = c.hidden();
            GraphEncoderRunner graphRunner = runner instanceof GraphEncoderRunner g ? g : null;
            if (graphRunner != null) {
                // Warm-up on the first batch: program builds and weight uploads happen once, not in the timing.
                long w0 = System.nanoTime();
                TokenBatch first = TokenBatch.pad(seqs.subList(0, Math.min(batch, seqs.size())), tok.padId(), uniform ? globalLength : 0);
                graphRunner.lastHiddenState(first);
                out.printf("warm-up: %.0f ms (program builds, weight uploads)%n", (System.nanoTime() - w0) / 1e6);
                out.print(graphRunner.plan(first.batch(), first.length()).describe());   // "placement:" and a line per op kind
                graphRunner.resetProfile();
            }
            out.flush();
            float[] embeddings = new float[texts.size() * h];
            float[] hidden = hiddenStates != null ? new float[Math.multiplyExact(texts.size() * globalLength, h)] : null;
            long[] ids = tokenIds != null ? new long[texts.size() * globalLength] : null;
            List<TokenBatch> batches = new ArrayList<>();
            long tokens = 0, start = System.nanoTime(), lastLog = start;
            for (int from = 0; from < seqs.size(); from += batch) {
                int to = Math.min(seqs.size(), from + batch);
                TokenBatch tb = TokenBatch.pad(seqs.subList(from, to), tok.padId(), uniform ? globalLength : 0);
                float[] states = runner.lastHiddenState(tb);
                float[] pooled = EncoderReference.pool(states, tb, h, pooling);
                System.arraycopy(pooled, 0, embeddings, from * h, pooled.length);
                if (hidden != null) System.arraycopy(states, 0, hidden, from * globalLength * h, states.length);
                if (ids != null) System.arraycopy(tb.ids(), 0, ids, from * globalLength, tb.ids().length);
                tokens += tb.realTokens();
                if (check) batches.add(tb);
                long now = System.nanoTime();
                if (now - lastLog > 2_000_000_000L && to < seqs.size()) {
                    lastLog = now;
                    System.err.printf("embedded %d/%d texts (%.1f sentences/s)%n", to, seqs.size(), to / ((now - start) / 1e9));
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;

            // 4. Report and write.
            if (texts.size() <= 12) printSimilarities(out, texts, embeddings, h);
            else out.printf("(similarity matrix shown for up to 12 texts; %d given)%n", texts.size());
            out.printf("throughput: %.1f sentences/s, %.0f tokens/s (%d sentences, %d tokens in %.3f s)%n",
                    texts.size() / seconds, tokens / seconds, texts.size(), tokens, seconds);
            if (graphRunner != null) {
                ProfileReport report = graphRunner.profile(batch, globalLength);
                if (report != null) {
                    if (profile) {
                        out.println();
                        ProfileTable.print(report, out);
                    }
                    outputs.write(report, out::println);
                }
            }
            if (pruning != null) compareWithDense(out, encoder, pooling, seqs, tok.padId(), embeddings, texts.size() / seconds, h);
            if (output != null) write(out, output, NpyArray.ofFloats(embeddings, texts.size(), h));
            if (hidden != null) write(out, hiddenStates, NpyArray.ofFloats(hidden, texts.size(), globalLength, h));
            if (ids != null) write(out, tokenIds, NpyArray.ofLongs(ids, texts.size(), globalLength));
            if (check) return checkAgainstOrt(out, onnx != null ? onnx : Files.readAllBytes(Path.of(model)), encoder, batches, embeddings, pooling, h);
        }
        out.flush();
        return 0;
    }

    /** The dense model on the same placement and texts: how close the pruned embeddings stay, and the speed ratio. */
    private void compareWithDense(PrintWriter out, EncoderModel encoder, Pooling pooling, List<TokenBatch.Sequence> seqs, long padId,
                                  float[] pruned, double prunedRate, int h) {
        try (EncoderRunner dense = openRunner(encoder, pooling, null)) {
            dense.lastHiddenState(TokenBatch.pad(seqs.subList(0, Math.min(batch, seqs.size())), padId)); // warm-up
            float[] e = new float[seqs.size() * h];
            long start = System.nanoTime();
            for (int from = 0; from < seqs.size(); from += batch) {
                TokenBatch tb = TokenBatch.pad(seqs.subList(from, Math.min(seqs.size(), from + batch)), padId);
                float[] pooled = EncoderReference.pool(dense.lastHiddenState(tb), tb, h, pooling);
                System.arraycopy(pooled, 0, e, from * h, pooled.length);
            }
            double denseRate = seqs.size() / ((System.nanoTime() - start) / 1e9);
            double min = 1, sum = 0;
            for (int i = 0; i < seqs.size(); i++) {
                double cos = cosine(e, i * h, pruned, i * h, h);
                min = Math.min(min, cos);
                sum += cos;
            }
            out.printf("pruned vs dense: sentence-embedding cosine min %.4f, mean %.4f; speed %.1f vs %.1f sentences/s (%.2fx)%n",
                    min, sum / seqs.size(), prunedRate, denseRate, prunedRate / denseRate);
        }
    }

    private DevicePool pool;

    /** The device spec or placement rules the run uses: --placement, else --device, else the registry's default. */
    private String placementRules() {
        if (placement != null) return placement;
        if (device != null) return device;
        return common.registry().defaultSpec();
    }

    /**
     * Where a device spec becomes a runner: java is the pure-Java reference; anything else (one OpenCL device,
     * placement rules, auto) runs the encoder graph through the graph runtime.
     */
    EncoderRunner openRunner(EncoderModel encoder, Pooling pooling, EncoderGraph.Prune pruning) {
        return EncoderRunners.open(encoder, pooling, pruning, placementRules(), this::devicePool, outputs.strict, System.err);
    }

    private DevicePool devicePool() {
        if (pool == null) pool = DevicePool.open(common.registry());
        return pool;
    }

    private List<String> readTexts() throws IOException {
        if (input == null) return BUILT_IN;
        List<String> lines;
        if (input.equals("-")) {
            lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).lines().toList();
        } else {
            Path p = Path.of(input);
            if (!Files.isRegularFile(p)) throw new UserError("--input " + input + ": no such file");
            lines = Files.readAllLines(p, StandardCharsets.UTF_8);
        }
        return lines.stream().filter(l -> !l.isBlank()).toList();
    }

    private static void printSimilarities(PrintWriter out, List<String> texts, float[] e, int h) {
        out.println();
        out.println("cosine similarity:");
        for (int i = 0; i < texts.size(); i++) {
            out.printf("  [%d] %s%n", i, texts.get(i).length() > 70 ? texts.get(i).substring(0, 67) + "..." : texts.get(i));
        }
        out.print("      ");
        for (int j = 0; j < texts.size(); j++) out.printf("   [%d]", j);
        out.println();
        for (int i = 0; i < texts.size(); i++) {
            out.printf("  [%d] ", i);
            for (int j = 0; j < texts.size(); j++) {
                double dot = 0;
                for (int k = 0; k < h; k++) dot += e[i * h + k] * e[j * h + k];
                out.printf(" %6.3f", dot);
            }
            out.println();
        }
        out.println();
    }

    private static void write(PrintWriter out, Path file, NpyArray a) {
        Npy.write(file, a);
        out.printf("wrote %s %s %s%n", file, a.dtype().numpyName(), a.shapeString());
    }

    /** ONNX Runtime on each sentence alone (batch 1, no padding): per-token and sentence cosines. */
    private int checkAgainstOrt(PrintWriter out, byte[] onnx, EncoderModel encoder, List<TokenBatch> batches,
                                float[] embeddings, Pooling pooling, int h) {
        OrtCheck ort;
        try {
            ort = OrtCheck.load(onnx);
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage());
        }
        try (ort; EncoderRunner runner = openRunner(encoder, pooling, null)) {
            double minTok = 1, minSent = 1, sumSent = 0;
            int n = 0;
            for (TokenBatch tb : batches) {
                float[] ours = runner.lastHiddenState(tb);
                for (int b = 0; b < tb.batch(); b++, n++) {
                    TokenBatch one = tb.row(b);
                    float[] want = ort.lastHiddenState(one);
                    for (int t = 0; t < one.length(); t++) minTok = Math.min(minTok, cosine(want, t * h, ours, (b * tb.length() + t) * h, h));
                    double s = cosine(EncoderReference.pool(want, one, h, pooling), 0, embeddings, n * h, h);
                    minSent = Math.min(minSent, s);
                    sumSent += s;
                }
            }
            out.printf("check vs ONNX Runtime (no graph optimizations, each text alone): per-token cosine min %.7f;"
                    + " sentence cosine min %.8f, mean %.8f%n", minTok, minSent, sumSent / n);
            if (encoder.name().contains("int8 at load")) out.println("(the model was quantized at load; ONNX Runtime ran the float file)");
        }
        out.flush();
        return 0;
    }

    private static double cosine(float[] a, int ai, float[] b, int bi, int n) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < n; i++) { dot += a[ai + i] * b[bi + i]; na += a[ai + i] * a[ai + i]; nb += b[bi + i] * b[bi + i]; }
        return dot / Math.sqrt(na * nb);
    }
}
