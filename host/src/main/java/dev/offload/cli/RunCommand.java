package dev.offload.cli;

import dev.offload.io.InputFile;
import dev.offload.io.OutputCheck;
import dev.offload.model.EncoderGraph;
import dev.offload.model.ModelCatalog;
import dev.offload.model.OrtCheck;
import dev.offload.model.TokenBatch;
import dev.offload.model.UnsupportedModelException;
import dev.offload.profile.ProfileReport;
import dev.offload.profile.ProfileTable;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.PlacementSpec;
import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EmbeddingSession;
import dev.offload.session.SentenceEmbeddings;
import dev.offload.session.EncoderSource;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
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



    @Option(names = "--prune", paramLabel = "2:4|SPARSITY|bsr:[RxC:]SPARSITY", description = "Magnitude-prune the int8 weights at load and run the sparse kernels: 2:4; a sparsity such as 0.5 per output channel as CSR; or bsr:0.9 / bsr:16x4:0.9, whole blocks of R output channels x C inputs per block row, on the block-sparse kernel (default block 32x4, the fastest with VNNI). The dense model runs too, for the accuracy and speed comparison.")
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
        if (quantize != null && !quantize.equals("int8")) throw new UserError("--quantize " + quantize + ": only int8 is supported");
        if (maxLength != null && maxLength < 2) throw new UserError("--max-length must be at least 2 ([CLS] and [SEP]), got " + maxLength);
        EmbeddingOptions options;
        try {
            options = EmbeddingOptions.defaults()
                    .withModel(EncoderSource.parse(model, tokenizer))
                    .withPlacement(PlacementSpec.fromOptions(device, placement))
                    .withRegistry(common.registry())
                    .withBatchSize(batch)
                    .withMaxLength(maxLength == null ? 0 : maxLength)
                    .withPrune(prune == null ? null : EncoderGraph.Prune.parse(prune))
                    .withQuantizeInt8(quantize != null)
                    .withStrict(outputs.strict)
                    // The timed loop replays recorded launches; the profile comes from a pass of its own (profiledPass).
                    .withProfiling(false);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        // Outputs are checked before any work, so a bad path fails now and nothing is half written.
        new OutputCheck().input("--input", input == null || input.equals("-") ? null : Path.of(input))
                .input("--model", model.endsWith(".onnx") ? Path.of(model) : null).input("--tokenizer", tokenizer)
                .output("--output", output).output("--hidden-states", hiddenStates).output("--token-ids", tokenIds)
                .output("--json", outputs.json).output("--trace", outputs.trace).check();
        List<String> texts = readTexts();
        if (texts.isEmpty()) throw new UserError("no input texts");
        try (EmbeddingSession session = open(options)) {
            return embed(out, session, texts, options);
        } catch (UnsupportedModelException | GraphRuntime.FallbackRefused e) {
            throw new UserError(e.getMessage());
        }
    }

    private static EmbeddingSession open(EmbeddingOptions options) {
        try {
            return EmbeddingSession.open(options, System.err);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** Batches of the input the profile pass runs (after its own warm-up): enough for stable per-op means, bounded for big inputs. */
    static final int PROFILED_BATCHES = 4;

    /**
     * The profile, from a session of its own that runs up to {@value #PROFILED_BATCHES} batches of the same texts:
     * profiling enqueues every node with its own event, while the timed loop replays each shape's recorded launches
     * (far fewer host calls), so one session cannot give both the throughput and a per-node profile. Empty where
     * nothing ran on OpenCL (the pure-Java reference).
     */
    private Optional<ProfileReport> profiledPass(EmbeddingOptions options, EmbeddingSession.Tokenized tokenized, int padTo, int length) {
        try (EmbeddingSession profiled = open(options.withProfiling(true))) {
            int n = Math.min(tokenized.sequences().size(), PROFILED_BATCHES * batch);
            EmbeddingSession.Tokenized some = new EmbeddingSession.Tokenized(tokenized.sequences().subList(0, n), 0);
            profiled.warmUp(some, padTo);
            profiled.embed(some, padTo, null);
            return profiled.profile(batch, length);
        }
    }

    private int embed(PrintWriter out, EmbeddingSession session, List<String> texts, EmbeddingOptions options) throws IOException {
        var c = session.model().config();
        if (options.quantizeInt8() && !session.quantizedAtLoad()) out.println("note: the model is already " + session.model().weightKind() + "; --quantize int8 changes nothing");
        out.printf("model:  %s (%d layers, hidden %d, %d heads, %s, %.1f MB linear weights), loaded in %.0f ms%n",
                session.model().name(), c.layers(), c.hidden(), c.heads(), session.model().weightKind(),
                session.model().linearWeightBytes() / 1e6, session.loadMs());
        out.printf("device: %s%n", session.device());
        EmbeddingSession.Tokenized tokenized = session.tokenize(texts);
        out.printf("input:  %d texts, %d tokens (max length %d%s), batch %d, %s pooling%n", texts.size(), tokenized.tokens(),
                session.maxLength(), tokenized.truncated() > 0 ? ", " + tokenized.truncated() + " truncated" : "",
                batch, session.pooling().name().toLowerCase(java.util.Locale.ROOT));
        // With .npy outputs of per-token data every batch is padded to one length, so the arrays stack.
        int padTo = hiddenStates != null || tokenIds != null ? tokenized.longest() : 0;
        TokenBatch firstBatch = session.pad(tokenized.sequences().subList(0, Math.min(batch, texts.size())), padTo);
        if (session.plan(firstBatch).isPresent()) {
            out.flush();
            out.printf("warm-up: %.0f ms (program builds, weight uploads)%n", session.warmUp(tokenized, padTo));
            out.print(session.plan(firstBatch).get().describe());   // "placement:" and a line per op kind
        }
        out.flush();

        // Per-token outputs are [texts, longest text, ...]: each batch's rows are cut from its (bucketed) padding.
        int h = session.dimension(), length = padTo;
        float[] hidden = hiddenStates != null ? new float[Math.multiplyExact(Math.multiplyExact(texts.size(), length), h)] : null;
        long[] ids = tokenIds != null ? new long[Math.multiplyExact(texts.size(), length)] : null;
        List<TokenBatch> batches = new ArrayList<>();
        long start = System.nanoTime();
        long[] lastLog = {start};
        SentenceEmbeddings embeddings = session.embed(tokenized, padTo, (first, tb, states) -> {
            for (int r = 0; r < tb.batch(); r++) {
                if (hidden != null) System.arraycopy(states, r * tb.length() * h, hidden, (first + r) * length * h, length * h);
                if (ids != null) System.arraycopy(tb.ids(), r * tb.length(), ids, (first + r) * length, length);
            }
            if (check) batches.add(tb);
            long now = System.nanoTime();
            int done = first + tb.batch();
            if (now - lastLog[0] > 2_000_000_000L && done < texts.size()) {
                lastLog[0] = now;
                System.err.printf("embedded %d/%d texts (%.1f sentences/s)%n", done, texts.size(), done / ((now - start) / 1e9));
            }
        });
        double seconds = (System.nanoTime() - start) / 1e9;

        if (texts.size() <= 12) printSimilarities(out, texts, embeddings);
        else out.printf("(similarity matrix shown for up to 12 texts; %d given)%n", texts.size());
        out.printf("throughput: %.1f sentences/s, %.0f tokens/s (%d sentences, %d tokens in %.3f s: the embedding loop after"
                        + " warm-up, tokenization to pooling)%n",
                texts.size() / seconds, embeddings.tokens() / seconds, texts.size(), embeddings.tokens(), seconds);
        var report = profile || outputs.wanted() ? profiledPass(options, tokenized, padTo, firstBatch.length()) : Optional.<ProfileReport>empty();
        if (report.isPresent()) {
            if (profile) {
                out.println();
                ProfileTable.print(report.get(), out, false);
            }
            outputs.write(report.get(), out::println);
        } else if (outputs.wanted()) {
            System.err.println("offload: note: --json and --trace were not written: only OpenCL runs are profiled, and this ran on "
                    + session.device());
        }
        if (options.prune() != null) compareWithDense(out, options, tokenized, embeddings, texts.size() / seconds);
        if (output != null) write(out, output, NpyArray.ofFloats(embeddings.vectors(), texts.size(), h));
        if (hidden != null) write(out, hiddenStates, NpyArray.ofFloats(hidden, texts.size(), length, h));
        if (ids != null) write(out, tokenIds, NpyArray.ofLongs(ids, texts.size(), length));
        if (check) return checkAgainstOrt(out, options, session, batches, embeddings);
        out.flush();
        return 0;
    }

    /** The dense model on the same placement and texts: how close the pruned embeddings stay, and the speed ratio. */
    private void compareWithDense(PrintWriter out, EmbeddingOptions options, EmbeddingSession.Tokenized texts, SentenceEmbeddings pruned,
                                  double prunedRate) {
        try (EmbeddingSession dense = open(options.withPrune(null).withProfiling(false))) {
            dense.warmUp(texts, 0);
            long start = System.nanoTime();
            SentenceEmbeddings e = dense.embed(texts, 0, null);
            double denseRate = e.count() / ((System.nanoTime() - start) / 1e9);
            double min = 1, sum = 0;
            for (int i = 0; i < e.count(); i++) {
                double cos = cosine(e.vectors(), i * e.dimension(), pruned.vectors(), i * e.dimension(), e.dimension());
                min = Math.min(min, cos);
                sum += cos;
            }
            out.printf("pruned vs dense: sentence-embedding cosine min %.4f, mean %.4f; speed %.1f vs %.1f sentences/s (%.2fx)%n",
                    min, sum / e.count(), prunedRate, denseRate, prunedRate / denseRate);
        }
    }

    private List<String> readTexts() throws IOException {
        if (input == null) return BUILT_IN;
        String text;
        try {
            text = input.equals("-") ? InputFile.readUtf8("--input -", System.in) : InputFile.readUtf8("--input " + input, Path.of(input));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        return text.lines().filter(l -> !l.isBlank()).toList();
    }

    private static void printSimilarities(PrintWriter out, List<String> texts, SentenceEmbeddings e) {
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
            for (int j = 0; j < texts.size(); j++) out.printf(" %6.3f", e.cosine(i, j));
            out.println();
        }
        out.println();
    }

    private static void write(PrintWriter out, Path file, NpyArray a) {
        Npy.write(file, a);
        out.printf("wrote %s %s %s%n", file, a.dtype().numpyName(), a.shapeString());
    }

    /** ONNX Runtime on each sentence alone (batch 1, no padding): per-token and sentence cosines. */
    private int checkAgainstOrt(PrintWriter out, EmbeddingOptions options, EmbeddingSession session, List<TokenBatch> batches,
                                SentenceEmbeddings embeddings) {
        OrtCheck ort;
        try {
            ort = OrtCheck.load(options.model().onnxBytes());
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage());
        }
        int h = session.dimension();
        try (ort) {
            double minTok = 1, minSent = 1, sumSent = 0;
            int n = 0;
            for (TokenBatch tb : batches) {
                float[] ours = session.lastHiddenState(tb);
                for (int b = 0; b < tb.batch(); b++, n++) {
                    TokenBatch one = tb.row(b);
                    float[] want = ort.lastHiddenState(one);
                    for (int t = 0; t < one.length(); t++) minTok = Math.min(minTok, cosine(want, t * h, ours, (b * tb.length() + t) * h, h));
                    double s = cosine(session.pooling().embed(want, one, h), 0, embeddings.vectors(), n * h, h);
                    minSent = Math.min(minSent, s);
                    sumSent += s;
                }
            }
            out.printf("check vs ONNX Runtime (no graph optimizations, each text alone): per-token cosine min %.7f;"
                    + " sentence cosine min %.8f, mean %.8f%n", minTok, minSent, sumSent / n);
            if (session.quantizedAtLoad()) out.println("(the model was quantized at load; ONNX Runtime ran the float file)");
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
