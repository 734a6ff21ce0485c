package dev.offload.server;

import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EmbeddingSession;
import dev.offload.session.GenerationSession;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One model the server answers for, by the id clients send as {@code model}: a sentence encoder (for
 * {@code /v1/embeddings}) or a decoder LLM (for {@code /v1/completions} and {@code /v1/chat/completions}).
 */
sealed interface ServedModel extends AutoCloseable {
    String id();

    /** The spec as given on the command line (also accepted as {@code model}). */
    String spec();

    /** A sentence encoder: the SPEC {@code ./offload run --model} takes (a known name or an .onnx file). */
    record Encoder(String id, String spec, EmbeddingSession session) implements ServedModel {
        @Override public void close() { session.close(); }
    }

    /** A decoder LLM from a GGUF file. */
    record Decoder(String id, String spec, GenerationSession session) implements ServedModel {
        @Override public void close() { session.close(); }
    }

    @Override void close();

    /**
     * Opens {@code spec}: a {@code .gguf} file is a decoder opened with {@code decoders} (placement, registry,
     * context), anything else an encoder opened with {@code encoders} (placement, registry, batch size) and the spec as
     * its model.
     */
    static ServedModel open(String spec, EmbeddingOptions encoders, dev.offload.session.GenerationOptions decoders) {
        String id = idOf(spec);
        if (spec.toLowerCase(Locale.ROOT).endsWith(".gguf")) return new Decoder(id, spec, GenerationSession.open(Path.of(spec), decoders));
        return new Encoder(id, spec, EmbeddingSession.open(encoders.withModel(spec)));
    }

    /** A known model's name as it is; a file's name without its extension. */
    static String idOf(String spec) {
        String name = Path.of(spec).getFileName().toString();
        int dot = name.lastIndexOf('.');
        String lower = name.toLowerCase(Locale.ROOT);
        return dot > 0 && (lower.endsWith(".gguf") || lower.endsWith(".onnx")) ? name.substring(0, dot) : name;
    }
}
