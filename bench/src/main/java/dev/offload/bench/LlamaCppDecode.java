package dev.offload.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.peer.NodeLlamaCpp;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The decode section's peer: llama.cpp through node-llama-cpp ({@code getLlama({gpu: false, build: "never"})}, its
 * prebuilt CPU backend) on the given threads, running {@code llama-cpp-decode.mjs} once for all models: per model,
 * a few runs of prompt then greedy generation, each from an empty KV cache.
 */
final class LlamaCppDecode {
    private LlamaCppDecode() {}

    /** One run: prefill time (to the first token), the time of the decode steps after it, and the tokens. */
    record Run(double promptMs, double decodeMs, int[] tokens) {
        /** Decode steps per second: every generated token after the first cost one forward pass. */
        double decodeStepsPerSecond() { return (tokens.length - 1) / (decodeMs / 1e3); }
    }

    /** A model's load time and its runs (the first is the warm-up). */
    record Model(double loadMs, List<Run> runs) {}

    /**
     * Runs every model with its prompt ids; empty (with the reason as a note) when llama.cpp cannot run here.
     *
     * @param runs    runs per model, the warm-up included
     * @param tokens  tokens to generate per run
     */
    static Optional<Map<Path, Model>> run(Map<Path, int[]> prompts, int threads, int runs, int tokens, int timeoutSeconds) {
        Optional<String> missing = NodeLlamaCpp.unavailableReason();
        if (missing.isPresent()) {
            Peer.note("decode: llama.cpp's rows are left out: " + missing.get());
            return Optional.empty();
        }
        return Peer.open("llama.cpp (node-llama-cpp " + NodeLlamaCpp.VERSION + ")", () -> {
            Path dir = Files.createTempDirectory("offload-bench-llama-");
            try {
                Path script = dir.resolve("llama-cpp-decode.mjs");
                try (InputStream in = LlamaCppDecode.class.getResourceAsStream("llama-cpp-decode.mjs")) {
                    Files.copy(in, script);
                }
                List<String> args = new ArrayList<>(List.of(NodeLlamaCpp.packageWithBackend().orElseThrow().toString(),
                        Integer.toString(threads), Integer.toString(runs), Integer.toString(tokens)));
                prompts.forEach((model, ids) -> {
                    args.add(model.toString());
                    args.add(Arrays.toString(ids));
                });
                return parse(NodeLlamaCpp.run(script, args, timeoutSeconds), prompts.keySet());
            } finally {
                deleteTree(dir);
            }
        });
    }

    private static Map<Path, Model> parse(JsonNode json, Iterable<Path> models) {
        Map<Path, Model> out = new LinkedHashMap<>();
        for (Path m : models) {
            JsonNode node = json.get(m.toString());
            if (node == null) throw new IllegalStateException("llama.cpp gave no answer for " + m);
            List<Run> runs = new ArrayList<>();
            for (JsonNode r : node.get("runs")) {
                int[] ids = new int[r.get("tokens").size()];
                for (int i = 0; i < ids.length; i++) ids[i] = r.get("tokens").get(i).asInt();
                runs.add(new Run(r.get("promptMs").asDouble(), r.get("decodeMs").asDouble(), ids));
            }
            out.put(m, new Model(node.get("loadMs").asDouble(), runs));
        }
        return out;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
