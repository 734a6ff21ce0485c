package dev.offload.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.decoder.DecoderBackend;
import dev.offload.decoder.DemoModel;
import dev.offload.decoder.Perplexity;
import dev.offload.model.tokenizer.TextTokenizer;
import dev.offload.peer.NodeLlamaCpp;
import dev.offload.session.GenerationOptions;
import dev.offload.session.GenerationSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The decode section's accuracy rows: the demo model's perplexity on the held-out book it ships with
 * ({@link DemoModel#HELD_OUT_EXCERPT}, Colossians, never trained on), by offload — what {@code ./offload perplexity}
 * computes, on the section's device — and by llama.cpp (node-llama-cpp, llama-perplexity's method:
 * {@code llama-cpp-perplexity.mjs}, the script the llama.cpp test tier uses), chunks of the model's context (256),
 * both PPL figures and their relative difference. The rate column is the PPL (lower is better), the time the whole
 * text's.
 */
final class DemoPerplexityBench {
    private DemoPerplexityBench() {}

    static final int CTX = 256;

    static void run(Report report, String deviceSpec, List<Path> files, boolean quick) throws IOException {
        if (files.isEmpty()) return;
        Path dir = Files.createTempDirectory("offload-bench-ppl-");
        try {
            Path text = Files.writeString(dir.resolve(DemoModel.HELD_OUT_EXCERPT), DemoModel.heldOutExcerpt());
            JsonNode llama = llamaCpp(dir, text, files, quick ? 300 : 900).orElse(null);
            for (Path file : files) {
                String label = file.getFileName().toString().replace("offload-demo-kjv-", "demo kjv ").replace(".gguf", "");
                String shape = label + " perplexity " + DemoModel.HELD_OUT_EXCERPT.replace(".txt", "");
                Result ours = offload(file, deviceSpec, DemoModel.heldOutExcerpt());
                JsonNode theirs = llama == null ? null : llama.get(file.toString());
                double peer = theirs == null ? Double.NaN : theirs.get("ppl").asDouble();
                String vs = theirs == null ? "llama.cpp's figure is left out (see the note)" : String.format(Locale.ROOT,
                        "llama.cpp %.4f +/- %.4f: relative difference %.2e", peer, theirs.get("error").asDouble(), Math.abs(ours.r.perplexity() / peer - 1));
                report.add(new BenchRow("decode", shape, "offload", deviceSpec, ours.ms, ours.r.perplexity(), "PPL", Double.NaN,
                        String.format(Locale.ROOT, "PPL %.4f +/- %.4f, %d tokens scored in %d chunks of %d (./offload perplexity); %s", ours.r.perplexity(), ours.r.error(),
                                ours.r.scoredTokens(), ours.r.chunks(), ours.r.ctx(), vs)));
                if (theirs != null) {
                    report.add(new BenchRow("decode", shape, "llama.cpp", "cpu", Double.NaN, peer, "PPL", Double.NaN,
                            String.format(Locale.ROOT, "PPL %.4f +/- %.4f, %d chunks; node-llama-cpp %s CPU backend, 2 threads, llama-perplexity's method",
                                    peer, theirs.get("error").asDouble(), theirs.get("chunks").asInt(), NodeLlamaCpp.VERSION)));
                }
            }
        } finally {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private record Result(Perplexity.Result r, double ms) {}

    /** The perplexity command's computation: the session's backend, every chunk from an empty cache. */
    private static Result offload(Path file, String deviceSpec, String text) {
        try (GenerationSession session = GenerationSession.open(file, GenerationOptions.defaults().withPlacement(deviceSpec).withContext(CTX))) {
            DecoderBackend backend = session.backend();
            TextTokenizer tok = session.tokenizer();
            long t0 = System.nanoTime();
            int[] tokens = tok.encode(text, tok.addsBos(), false);
            Perplexity.Result r = Perplexity.compute(tokens, CTX, session.model().config().vocab(), tok.addsBos() ? tok.bos() : -1, 0, chunk -> {
                try (DecoderBackend.Cache c = backend.newCache(chunk.length)) {
                    return backend.forwardAll(chunk, c);
                }
            }, null);
            return new Result(r, (System.nanoTime() - t0) / 1e6);
        }
    }

    private static Optional<JsonNode> llamaCpp(Path dir, Path text, List<Path> files, int timeoutSeconds) {
        Optional<String> missing = NodeLlamaCpp.unavailableReason();
        if (missing.isPresent()) {
            Peer.note("decode: llama.cpp's perplexity rows are left out: " + missing.get());
            return Optional.empty();
        }
        return Peer.open("llama.cpp perplexity (node-llama-cpp " + NodeLlamaCpp.VERSION + ")", () -> {
            Path script = dir.resolve("llama-cpp-perplexity.mjs");
            try (InputStream in = NodeLlamaCpp.class.getResourceAsStream("llama-cpp-perplexity.mjs")) {
                Files.copy(in, script);
            }
            List<String> args = new ArrayList<>(List.of(NodeLlamaCpp.packageWithBackend().orElseThrow().toString(), Integer.toString(CTX),
                    text.toString()));
            for (Path f : files) args.add(f.toString());
            return NodeLlamaCpp.run(script, args, timeoutSeconds);
        });
    }
}
