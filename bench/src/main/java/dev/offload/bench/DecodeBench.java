package dev.offload.bench;

import dev.offload.config.CacheDirs;
import dev.offload.decoder.DemoModel;
import dev.offload.decoder.SamplingParams;
import dev.offload.decoder.SeededLlamaModel;
import dev.offload.decoder.SeededVocabulary;
import dev.offload.model.gguf.GgmlType;
import dev.offload.model.gguf.GgufFile;
import dev.offload.model.tokenizer.TextTokenizer;
import dev.offload.peer.NodeLlamaCpp;
import dev.offload.decoder.DeviceDecoder;
import dev.offload.session.GenerationOptions;
import dev.offload.session.GenerationSession;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Decoder LLMs: prompt tok/s and generation tok/s of offload's {@link GenerationSession} against llama.cpp (see
 * {@link LlamaCppDecode}) on the same GGUF files — first offload's demo model (Q8_0 and Q4_0; --quick: Q8_0; trained on the King
 * James Bible; with its perplexity row, {@link DemoPerplexityBench}), then seeded ones ({@link SeededLlamaModel}: small
 * and Llama-3.2-1B shapes in Q8_0, Q4_0 and Q4_K_M; --quick: tiny; {@code --decode-models} picks which, see {@link #run}) — the same prompt token ids ({@value #PROMPT} tokens, made with the model's tokenizer)
 * and {@value #GENERATE} tokens generated greedily after them, each run from an empty KV cache; medians over the runs
 * after a warm-up. The two sides take turns on each model, in rounds (llama.cpp's runs, then offload's, then
 * llama.cpp's again...): on this shared machine the speed of both drifts by tens of percent within minutes, and a
 * ratio of figures taken minutes apart measured the drift as much as the code. The notes give each round's ratio, so
 * the spread is in the table. Generation tok/s counts decode steps: the tokens after the first over the time from the first to
 * the last (the first comes with the prompt). GB/s = the file's tensor bytes x generation tok/s: what a decode step
 * streams, as llama.cpp's figures are usually given (it counts the embedding table, of which a step reads one row).
 */
final class DecodeBench {
    private DecodeBench() {}

    static final int PROMPT = 128, GENERATE = 64;
    static final long SEED = 1;

    /** What one side measured on one model (medians). */
    record Figures(String device, double promptMs, int promptTokens, double msPerStep, int generated, int[] tokens) {
        double promptRate() { return promptTokens / (promptMs / 1e3); }

        double stepRate() { return 1e3 / msPerStep; }
    }

    /**
     * The models named {@code shape-type} in {@code names} (e.g. {@code 1b-q4_k_m}), or when none are named: tiny Q8_0
     * and Q4_0 with --quick (tiny has no whole super-blocks for Q4_K_M), else small and 1B in every file type.
     */
    static List<SeededLlamaModel.Spec> specs(boolean quick, List<String> names) {
        List<SeededLlamaModel.Spec> specs = new ArrayList<>();
        for (String name : names) {
            int dash = name.lastIndexOf('-');   // shape ids have none; gemma3_1b-q4_0
            if (dash < 0) throw new IllegalArgumentException("--decode-models wants shape-type names such as small-q4_k_m, got '" + name + "'");
            SeededLlamaModel.FileType type;
            try {
                type = SeededLlamaModel.FileType.valueOf(name.substring(dash + 1).toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("no seeded file type '" + name.substring(dash + 1) + "' (types: q8_0, q4_0, q4_k_m)");
            }
            specs.add(new SeededLlamaModel.Spec(SeededLlamaModel.Shape.named(name.substring(0, dash)), type, SEED));
        }
        if (!specs.isEmpty()) return specs;
        if (quick) {
            for (GgmlType t : List.of(GgmlType.Q8_0, GgmlType.Q4_0)) specs.add(new SeededLlamaModel.Spec(SeededLlamaModel.Shape.TINY, t, SEED));
            return specs;
        }
        for (SeededLlamaModel.Shape s : List.of(SeededLlamaModel.Shape.SMALL, SeededLlamaModel.Shape.LLAMA_3_2_1B)) {
            for (SeededLlamaModel.FileType t : SeededLlamaModel.FileType.values()) specs.add(new SeededLlamaModel.Spec(s, t, SEED));
        }
        return specs;
    }

    /**
     * @param deviceSpec  where offload's decoder runs
     * @param cache       where the demo model is extracted and the seeded model files are kept (made on first use)
     */
    static void run(Report report, String deviceSpec, CacheDirs cache, boolean quick, int threads, List<String> names) throws IOException {
        // names: empty or "all" = the demo model and the default seeded models; "demo"; "seeded"; or seeded
        // models by shape-type name (small-q4_k_m), which may follow "demo".
        List<String> seededNames = names.stream().filter(n -> !List.of("all", "demo", "seeded").contains(n)).toList();
        boolean all = names.isEmpty() || names.contains("all");
        boolean withDemo = all || names.contains("demo");
        boolean withSeeded = all || names.contains("seeded") || !seededNames.isEmpty();
        List<SeededLlamaModel.Spec> specs = specs(quick, seededNames);
        int rounds = quick ? 1 : 3, runsPerRound = quick ? 1 : 2;
        Map<Path, String> models = new LinkedHashMap<>();
        if (withDemo) {
            // --quick: the Q8_0 file only (the default of generate); a full run adds Q4_0.
            for (DemoModel.Variant v : quick ? List.of(DemoModel.Variant.Q8_0) : List.of(DemoModel.Variant.Q8_0, DemoModel.Variant.Q4_0)) {
                models.put(DemoModel.resolve(cache, v), "demo kjv " + v.name().toLowerCase(Locale.ROOT));
            }
        }
        if (withSeeded) {
            SeededVocabulary vocabulary = SeededVocabulary.llama3OrSynthetic();
            if (!vocabulary.name().equals("llama-bpe")) {
                Peer.note("decode: llama.cpp's ggml-vocab-llama-bpe.gguf not found (" + NodeLlamaCpp.HOW_TO_GET + "): the models get a synthetic vocabulary of the same size");
            }
            for (SeededLlamaModel.Spec spec : specs) {
                long t0 = System.nanoTime();
                Path file = SeededLlamaModel.cached(cache.models(), spec, vocabulary);
                double s = (System.nanoTime() - t0) / 1e9;
                if (s > 1) System.err.printf(Locale.ROOT, "bench: decode: %s ready in %.1f s (%s)%n", spec.label(), s, file);
                models.put(file, spec.label());
            }
        }
        Map<Path, String> prompts = new LinkedHashMap<>();
        Map<Path, int[]> promptIds = new LinkedHashMap<>();
        for (Path file : models.keySet()) {
            TextTokenizer tok = tokenizer(file);
            String text = prompt(tok);
            prompts.put(file, text);
            promptIds.put(file, tok.encode(text, tok.addsBos()));
        }
        boolean peer = true;   // false once llama.cpp could not run (said once, in a note)
        for (Path file : models.keySet()) {
            long bytes;
            try (GgufFile g = GgufFile.open(file)) {
                bytes = g.tensorBytes();
            }
            int promptTokens = promptIds.get(file).length;
            Optional<Offload> offload = open(file, deviceSpec);
            List<GenerationSession.Result> ours = new ArrayList<>();
            List<LlamaCppDecode.Run> theirs = new ArrayList<>();
            List<double[]> roundRatios = new ArrayList<>();   // {prompt, generation} per round with both sides
            long start = System.nanoTime();
            double capSeconds = quick ? 30 : 300;   // a slow device (the java reference on a 1B file) takes fewer rounds
            try {
                for (int round = 0; round < rounds && (round == 0 || (System.nanoTime() - start) / 1e9 < capSeconds); round++) {
                    List<LlamaCppDecode.Run> peerRuns = List.of();
                    if (peer) {
                        // A fresh process each round: its first run is the warm-up.
                        Optional<Map<Path, LlamaCppDecode.Model>> llama = LlamaCppDecode.run(Map.of(file, promptIds.get(file)), threads,
                                1 + runsPerRound, GENERATE, quick ? 300 : 1800);
                        peer = llama.isPresent();
                        if (peer) peerRuns = llama.get().get(file).runs().subList(1, 1 + runsPerRound);
                    }
                    List<GenerationSession.Result> ourRuns = offload.map(o -> measure(o.session(), prompts.get(file), promptTokens,
                            runsPerRound, ours.isEmpty())).orElse(List.of());
                    if (!peerRuns.isEmpty() && !ourRuns.isEmpty()) {
                        Figures a = figures(ourRuns, promptTokens, offload.get().device()), b = figures(peerRuns, promptTokens);
                        roundRatios.add(new double[] {a.promptRate() / b.promptRate(), a.stepRate() / b.stepRate()});
                    }
                    ours.addAll(ourRuns);
                    theirs.addAll(peerRuns);
                }
            } finally {
                offload.ifPresent(o -> o.session().close());
            }
            Optional<Figures> ourFigures = ours.isEmpty() ? Optional.empty() : Optional.of(figures(ours, promptTokens, offload.get().device()));
            Optional<Figures> theirFigures = theirs.isEmpty() ? Optional.empty() : Optional.of(figures(theirs, promptTokens));
            rows(report, models.get(file), bytes, promptTokens, ourFigures, theirFigures, threads, roundRatios);
        }
        if (withDemo) {
            List<Path> demo = models.keySet().stream().filter(f -> f.getFileName().toString().startsWith("offload-demo-")).toList();
            DemoPerplexityBench.run(report, deviceSpec, demo, quick);
        }
    }

    /** The tokenizer alone (a 1B model's weights need not be decoded for it). */
    private static TextTokenizer tokenizer(Path file) {
        try (GgufFile g = GgufFile.open(file)) {
            return TextTokenizer.fromGguf(g.metadata());
        }
    }

    static final String STORY = "The old lighthouse keeper climbed the spiral stairs every evening to light the lamp that guided ships past"
            + " the rocks. Over forty years he had watched storms roll in from the west, counted the fishing boats returning at dusk,"
            + " and written the weather in a leather book that now filled a whole shelf of his small kitchen. ";

    /**
     * English text that {@code tok} encodes to exactly {@value #PROMPT} tokens, BOS included: the story's first
     * tokens decoded back to text, when that text encodes to them again; else the most words that fit.
     */
    static String prompt(TextTokenizer tok) {
        String story = STORY;
        while (tok.encode(story, tok.addsBos()).length <= PROMPT) story += STORY;
        int[] ids = Arrays.copyOf(tok.encode(story, tok.addsBos()), PROMPT);
        int first = ids[0] == tok.bos() && tok.addsBos() ? 1 : 0;
        String text = tok.decode(Arrays.copyOfRange(ids, first, PROMPT));
        if (Arrays.equals(tok.encode(text, tok.addsBos()), ids)) return text;
        String[] words = story.split(" ");
        StringBuilder fits = new StringBuilder(words[0]);
        for (int i = 1; tok.encode(fits + " " + words[i], tok.addsBos()).length <= PROMPT; i++) fits.append(' ').append(words[i]);
        return fits.toString();
    }

    /**
     * {@code runs} generations through the same session {@code generate} uses (after one warm-up run when
     * {@code warmUp}), each from an empty KV cache.
     */
    private static List<GenerationSession.Result> measure(GenerationSession session, String prompt, int promptTokens, int runs, boolean warmUp) {
        List<GenerationSession.Result> results = new ArrayList<>();
        for (int r = warmUp ? -1 : 0; r < runs; r++) {
            GenerationSession.Result res = session.generate(prompt, true, GENERATE, PROMPT + GENERATE + 16, SamplingParams.greedy(), null);
            if (res.promptTokens() != promptTokens) {
                throw new IllegalStateException("offload fed " + res.promptTokens() + " prompt tokens, llama.cpp gets " + promptTokens);
            }
            if (r >= 0) results.add(res);
        }
        return results;
    }

    private static Figures figures(List<GenerationSession.Result> results, int promptTokens, String device) {
        double[] prompts = results.stream().mapToDouble(GenerationSession.Result::promptMs).toArray();
        double[] steps = results.stream().mapToDouble(DecodeBench::msPerStep).toArray();
        GenerationSession.Result last = results.getLast();
        return new Figures(device, Timing.median(prompts), promptTokens, Timing.median(steps), last.generatedTokens(), last.tokens());
    }

    /** offload's session and the device it computes on, as the rows name it. */
    private record Offload(GenerationSession session, String device) {}

    /**
     * The session for {@code deviceSpec}: the one place the device is chosen (an OpenCL device runs the device
     * decoder, {@code java} the float reference). Says how many bytes of weights the device holds against the file's.
     */
    private static Optional<Offload> open(Path file, String deviceSpec) {
        try {
            return Optional.of(openSession(file, deviceSpec));
        } catch (RuntimeException e) {
            Peer.note("decode: offload's rows for " + file.getFileName() + " are left out: " + Peer.rootMessage(e));
            return Optional.empty();
        }
    }

    private static Offload openSession(Path file, String deviceSpec) {
        GenerationSession session = GenerationSession.open(file, GenerationOptions.defaults().withPlacement(deviceSpec).withContext(PROMPT + GENERATE + 16));
        session.warmUp();
        if (session.backend() instanceof DeviceDecoder d) {
            long fileBytes;
            try (GgufFile g = GgufFile.open(file)) {
                fileBytes = g.tensorBytes();
            }
            Peer.note(String.format(Locale.ROOT, "decode: %s resident on %s: %d bytes of weights, %.3fx the file's %d tensor bytes (the token"
                    + " embedding stays in the mapped file)", file.getFileName(), deviceSpec, d.residentBytes(), d.residentBytes() / (double) fileBytes, fileBytes));
        }
        return new Offload(session, deviceSpec);
    }

    /** The session's generation time covers every generated token's sampling and the forward passes between them. */
    private static double msPerStep(GenerationSession.Result r) {
        return r.generatedTokens() < 2 ? Double.NaN : r.generationMs() / (r.generatedTokens() - 1);
    }

    private static Figures figures(List<LlamaCppDecode.Run> measured, int promptTokens) {
        double[] prompts = measured.stream().mapToDouble(LlamaCppDecode.Run::promptMs).toArray();
        double[] steps = measured.stream().mapToDouble(r -> r.tokens().length < 2 ? Double.NaN : r.decodeMs() / (r.tokens().length - 1)).toArray();
        int[] tokens = measured.getLast().tokens();
        return new Figures("cpu", Timing.median(prompts), promptTokens, Timing.median(steps), tokens.length, tokens);
    }

    private static void rows(Report report, String label, long bytes, int promptTokens, Optional<Figures> ours,
                             Optional<Figures> peer, int threads, List<double[]> roundRatios) {
        String prompt = label + " prompt p" + promptTokens, generate = label + " generate g" + GENERATE;
        String same = ours.isPresent() && peer.isPresent() ? "; greedy tokens identical to llama.cpp's: first " + samePrefix(ours.get().tokens(), peer.get().tokens())
                + " of " + Math.min(ours.get().tokens().length, peer.get().tokens().length) : "";
        double gb = bytes / 1e9;
        ours.ifPresent(o -> {
            double promptRatio = peer.map(p -> o.promptRate() / p.promptRate()).orElse(Double.NaN);
            double stepRatio = peer.map(p -> o.stepRate() / p.stepRate()).orElse(Double.NaN);
            report.add(new BenchRow("decode", prompt, "offload", o.device(), o.promptMs(), o.promptRate(), "tok/s", promptRatio,
                    "GenerationSession; ratio = offload tok/s / llama.cpp tok/s" + rounds(roundRatios, 0)));
            report.add(new BenchRow("decode", generate, "offload", o.device(), o.msPerStep(), o.stepRate(), "tok/s", stepRatio,
                    String.format(Locale.ROOT, "%.1f GB/s of weights (%.2f GB x tok/s)%s%s", gb * o.stepRate(), gb, same, rounds(roundRatios, 1))));
        });
        peer.ifPresent(p -> {
            report.add(new BenchRow("decode", prompt, "llama.cpp", p.device(), p.promptMs(), p.promptRate(), "tok/s", Double.NaN,
                    "node-llama-cpp " + NodeLlamaCpp.VERSION + " CPU backend, " + threads + " threads, the same prompt ids"));
            report.add(new BenchRow("decode", generate, "llama.cpp", p.device(), p.msPerStep(), p.stepRate(), "tok/s", Double.NaN,
                    String.format(Locale.ROOT, "%.1f GB/s of weights (%.2f GB x tok/s), greedy, %d threads", gb * p.stepRate(), gb, threads)));
        });
    }

    /** "; rounds 1.02x 0.97x 1.10x": each round's ratio (its medians), when there was more than one round. */
    private static String rounds(List<double[]> ratios, int which) {
        if (ratios.size() < 2) return "";
        StringBuilder s = new StringBuilder("; alternating rounds:");
        for (double[] r : ratios) s.append(String.format(Locale.ROOT, " %.2fx", r[which]));
        return s.toString();
    }

    private static int samePrefix(int[] a, int[] b) {
        int n = 0;
        while (n < Math.min(a.length, b.length) && a[n] == b[n]) n++;
        return n;
    }
}
