package dev.offload.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.request.EmbeddingInput;
import dev.langchain4j.model.embedding.request.EmbeddingRequest;
import dev.langchain4j.model.embedding.response.EmbeddingResponse;
import dev.langchain4j.model.embedding.response.EmbeddingResponseMetadata;
import dev.langchain4j.model.output.TokenUsage;
import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EmbeddingSession;
import dev.offload.session.SentenceEmbeddings;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A LangChain4j {@link EmbeddingModel} that embeds on offload's devices through an {@link EmbeddingSession}.
 *
 * <pre>{@code
 * try (OffloadEmbeddingModel model = OffloadEmbeddingModel.builder().placement("cl:cpu").build()) {
 *     EmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
 *     EmbeddingStoreIngestor.builder().embeddingModel(model).embeddingStore(store).build().ingest(documents);
 *     Embedding query = model.embed("a question").content();
 * }
 * }</pre>
 *
 * <p>The vectors are exactly the session's (L2-normalized, the same bits as {@code offload run --output}); the token
 * usage of a call counts the real tokens fed, [CLS] and [SEP] included ({@link SentenceEmbeddings#tokens()}).
 *
 * <p>Thread-safe: the session is, and this class keeps no state of its own besides it, so one model may serve any
 * number of threads at once. {@link #close} must come after the last call.
 *
 * <p>LangChain4j 1.19's {@code embed(String)}, {@code embed(TextSegment)} and {@code embedAll} all reach
 * {@link #doEmbed}, the hook it asks providers to implement, so listeners see every call. No per-call parameters
 * (dimensions, input type) are supported: LangChain4j rejects a request that sets them.
 */
public final class OffloadEmbeddingModel implements EmbeddingModel, AutoCloseable {
    private final EmbeddingSession session;
    private final boolean ownsSession;

    private OffloadEmbeddingModel(EmbeddingSession session, boolean ownsSession) {
        this.session = Objects.requireNonNull(session, "session");
        this.ownsSession = ownsSession;
    }

    /** Opens a session with these options; {@link #close} closes it. */
    public static OffloadEmbeddingModel open(EmbeddingOptions options) {
        return new OffloadEmbeddingModel(EmbeddingSession.open(options), true);
    }

    /** A model over a session the caller opened and will close: {@link #close} leaves it open. */
    public static OffloadEmbeddingModel wrapping(EmbeddingSession session) {
        return new OffloadEmbeddingModel(session, false);
    }

    /** Starts from {@link EmbeddingOptions#defaults()}: all-MiniLM-L6-v2-q on the default device, batches of 8. */
    public static Builder builder() { return new Builder(); }

    @Override
    public EmbeddingResponse doEmbed(EmbeddingRequest request) {
        List<String> texts = request.inputs().stream().map(EmbeddingInput::text).toList();
        SentenceEmbeddings embedded = session.embed(texts);
        List<Embedding> vectors = new ArrayList<>(embedded.count());
        for (int i = 0; i < embedded.count(); i++) vectors.add(Embedding.from(embedded.vector(i)));
        TokenUsage usage = new TokenUsage(Math.toIntExact(embedded.tokens()));
        return EmbeddingResponse.builder()
                .embeddings(vectors)
                .metadata(EmbeddingResponseMetadata.builder().modelName(modelName()).tokenUsage(usage).build())
                .build();
    }

    /** The model's hidden size, known from the session without embedding a text. */
    @Override
    public int dimension() { return session.dimension(); }

    /** The encoder's name as imported (its ONNX file's), e.g. all-MiniLM-L6-v2-q's. */
    @Override
    public String modelName() { return session.model().name(); }

    /** The session this model embeds with (for what LangChain4j does not ask: device, max length, profiles). */
    public EmbeddingSession session() { return session; }

    /** Closes the session when this model opened it; a wrapped session stays open. */
    @Override
    public void close() {
        if (ownsSession) session.close();
    }

    /** The options worth setting from LangChain4j code; {@link #options} takes any others. */
    public static final class Builder {
        private EmbeddingOptions options = EmbeddingOptions.defaults();

        private Builder() {}

        /** Replaces everything set so far with these options. */
        public Builder options(EmbeddingOptions o) {
            options = Objects.requireNonNull(o, "options");
            return this;
        }

        /** A known model's name (all-minilm-l6-v2-q, bge-small-en-v15-q, all-minilm-l6-v2) or an .onnx path. */
        public Builder model(String nameOrPath) {
            options = options.withModel(nameOrPath);
            return this;
        }

        /** A device ({@code java}, {@code cl:cpu}, {@code cl:0:1}), placement rules, or {@code auto}. */
        public Builder placement(String spec) {
            options = options.withPlacement(spec);
            return this;
        }

        /** Texts per device run. */
        public Builder batchSize(int n) {
            options = options.withBatchSize(n);
            return this;
        }

        /** Tokens per text at most, [CLS] and [SEP] included; longer texts are cut. */
        public Builder maxLength(int n) {
            options = options.withMaxLength(n);
            return this;
        }

        /** Opens the session (reads the model, opens the devices); the model closes it. */
        public OffloadEmbeddingModel build() { return open(options); }
    }
}
