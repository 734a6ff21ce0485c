package dev.offload.decoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.model.gguf.GgufFile;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.PlacementSpec;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * What the demo model's tests share: the recipe's figures (its summary.json, copied beside the held-out excerpt), the
 * model on the float reference or on the device decoder, greedy continuations and perplexity on any backend.
 */
final class DemoModels {
    static final int GREEDY_TOKENS = 64;
    static final String EXCERPT = DemoModel.HELD_OUT_EXCERPT;

    private DemoModels() {}

    /** The recipe's summary.json: steps, prompt, and per file its size, perplexities and greedy continuation. */
    static JsonNode summary() {
        try {
            return new ObjectMapper().readTree(resource("summary.json"));
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String prompt() { return summary().get("prompt").asText(); }

    /** A test resource of the demo folder, as text. */
    static String resource(String name) {
        try (InputStream in = DemoModels.class.getResourceAsStream("/dev/offload/demo/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A demo file's description and its java references over the same decoded weights: float activations
     * ({@code reference}) and the device's int8-block activations ({@code int8Reference}).
     */
    record Loaded(GgufDecoder model, DecoderReference reference, DecoderReference int8Reference) {}

    static Loaded load(Path file) {
        try (GgufFile f = GgufFile.open(file)) {
            GgufDecoder d = GgufDecoder.read(f);
            DecoderWeights w = d.floatWeights(f);
            return new Loaded(d, new DecoderReference(d.config(), w),
                    new DecoderReference(d.config(), w, DecoderReference.Activations.INT8_BLOCKS));
        }
    }

    /** Runs {@code test} with {@code file}'s device decoder placed on {@code where} over {@code pool}. */
    static <T> T onDevice(Path file, DevicePool pool, String where, Function<DeviceDecoder, T> test) {
        try (GgufFile f = GgufFile.open(file); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            GgufDecoder d = GgufDecoder.read(f);
            QuantizedWeights w = QuantizedWeights.load(f, d.config(), arena);
            try (DeviceDecoder dec = new DeviceDecoder(d.config(), w, d.config().contextLength(), pool, PlacementSpec.parse(where), true, false, null)) {
                return test.apply(dec);
            }
        }
    }

    /** The most likely next token, {@code n} times, on {@code b} with its KV cache. */
    static int[] greedy(DecoderBackend b, int[] prompt, int n) {
        int[] out = new int[n];
        try (DecoderBackend.Cache c = b.newCache(prompt.length + n)) {
            float[] logits = b.forward(prompt, c);
            for (int i = 0; i < n; i++) {
                out[i] = Sampler.argmax(logits);
                if (i + 1 < n) logits = b.forward(new int[] {out[i]}, c);
            }
        }
        return out;
    }

    /** llama.cpp's perplexity of {@code b} on {@code tokens} at the model's context, every chunk from an empty cache. */
    static Perplexity.Result perplexity(DecoderBackend b, int[] tokens, int bos) {
        int ctx = b.config().contextLength();
        return Perplexity.compute(tokens, ctx, b.config().vocab(), bos, 0, chunk -> {
            try (DecoderBackend.Cache c = b.newCache(chunk.length)) {
                return b.forwardAll(chunk, c);
            }
        }, null);
    }

    /** How many leading tokens two continuations share. */
    static int sharedPrefix(int[] a, int[] b) {
        int n = 0;
        while (n < Math.min(a.length, b.length) && a[n] == b[n]) n++;
        return n;
    }
}
