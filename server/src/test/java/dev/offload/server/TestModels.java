package dev.offload.server;

import dev.offload.decoder.DecoderConfig;
import dev.offload.decoder.TinyGgufModels;
import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EmbeddingSession;
import dev.offload.session.GenerationSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The models the server tests serve, opened once per test JVM and shared: all-MiniLM-L6-v2-q (it rides in the host
 * jar: no network) on the OpenCL CPU device, and seeded llama GGUF files written by host's test writer — a tiny one with
 * a chat template, and a slower one (wider, 4096 positions) for generations that must still be running when a test
 * acts on them.
 */
final class TestModels {
    static final String ENCODER = "all-minilm-l6-v2-q";
    static final String TINY = "tiny-chat";
    static final String SLOW = "slow-chat";
    /** Sentences per device run in the tests' servers (also the encoder session's batch size). */
    static final int MAX_BATCH = 16;
    static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
            + "{% if add_generation_prompt %}<assistant>{% endif %}";

    private static EmbeddingSession encoder;
    private static GenerationSession tiny, slow;
    private static Path dir;

    private TestModels() {}

    static synchronized EmbeddingSession encoder() {
        if (encoder == null) {
            encoder = EmbeddingSession.open(EmbeddingOptions.defaults().withModel(ENCODER).withPlacement("cl:cpu").withBatchSize(MAX_BATCH));
            encoder.embed(List.of("warm-up"));
        }
        return encoder;
    }

    static synchronized GenerationSession tiny() {
        if (tiny == null) tiny = GenerationSession.open(tinyFile(), dev.offload.session.GenerationOptions.defaults().withPlacement("cl:cpu"));
        return tiny;
    }

    /** The tiny model's file (for ./offload generate-style comparisons). */
    static synchronized Path tinyFile() {
        Path f = dir().resolve(TINY + ".gguf");
        if (tiny == null) write(f, TinyGgufModels.config(DecoderConfig.Architecture.LLAMA), 33);   // written afresh once per JVM
        return f;
    }

    static synchronized GenerationSession slow() {
        if (slow == null) {
            DecoderConfig t = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
            DecoderConfig c = new DecoderConfig(t.architecture(), 4, 256, 8, 4, 32, 512, t.vocab(), 4096, t.ropeBase(), t.ropeStyle(),
                    t.rmsEpsilon(), false);
            // On the float reference: slow enough per token that a client can hang up mid-stream.
            slow = GenerationSession.open(write(dir().resolve(SLOW + ".gguf"), c, 7), dev.offload.session.GenerationOptions.defaults().withPlacement("java"));
        }
        return slow;
    }

    static ServedModel.Encoder servedEncoder() { return new ServedModel.Encoder(ENCODER, ENCODER, encoder()); }

    static ServedModel.Decoder servedTiny() { return new ServedModel.Decoder(TINY, tinyFile().toString(), tiny()); }

    static ServedModel.Decoder servedSlow() { return new ServedModel.Decoder(SLOW, SLOW + ".gguf", slow()); }

    /** Options for a test server: an ephemeral loopback port, the tests' batch size. */
    static ServerOptions options() {
        return ServerOptions.defaults().withAddress("127.0.0.1", 0).withBatching(MAX_BATCH, java.time.Duration.ofMillis(2));
    }

    private static Path write(Path file, DecoderConfig c, long seed) {
        try {
            return TinyGgufModels.write(file, c, TinyGgufModels.randomWeights(c, seed), TinyGgufModels.F32, false, 2, TEMPLATE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path dir() {
        if (dir == null) {
            try {
                dir = Files.createDirectories(Path.of("target", "test-models"));   // the module's target/: surefire runs there
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }
}
