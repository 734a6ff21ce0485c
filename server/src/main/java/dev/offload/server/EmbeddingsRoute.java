package dev.offload.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.session.EmbeddingSession;
import dev.offload.session.SentenceEmbeddings;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

/**
 * {@code POST /v1/embeddings}: {@code input} (a string or an array of strings), {@code model},
 * {@code encoding_format} ({@code float}, the default, or {@code base64}: the float32 values little-endian, as
 * OpenAI's SDKs decode them) and {@code dimensions} (only the model's own). The texts are tokenized here, on the
 * request's thread; a text longer than the model's context is a 400, not silently cut. The device run is the
 * batcher's, shared with other requests.
 */
final class EmbeddingsRoute {
    /** OpenAI's limit on inputs per request. */
    static final int MAX_INPUTS = 2048;

    private final ServedModels models;
    private final Map<String, EmbeddingBatcher> batchers;
    private final ServerMetrics metrics;

    EmbeddingsRoute(ServedModels models, Map<String, EmbeddingBatcher> batchers, ServerMetrics metrics) {
        this.models = models;
        this.batchers = batchers;
        this.metrics = metrics;
    }

    ObjectNode answer(RequestFields f) {
        ServedModel.Encoder model = models.encoder(f.string("model", null));
        EmbeddingSession session = model.session();
        List<String> input = f.strings("input", MAX_INPUTS);
        if (input == null) throw ApiException.invalid("input", "you must provide 'input'");
        if (input.isEmpty()) throw ApiException.invalid("input", "'input' must not be an empty array");
        String format = f.string("encoding_format", "float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiException.invalid("encoding_format", "'encoding_format' must be 'float' or 'base64', got '" + format + "'");
        }
        long dimensions = f.integer("dimensions", session.dimension(), 1, Integer.MAX_VALUE);
        if (dimensions != session.dimension()) {
            throw ApiException.invalid("dimensions", "'" + model.id() + "' gives " + session.dimension() + " dimensions only");
        }
        EmbeddingSession.Tokenized texts = session.tokenize(input);
        if (texts.truncated() > 0) throw overContext(session, input);
        SentenceEmbeddings e;
        try {
            e = batchers.get(model.id()).submit(texts).join();
        } catch (CompletionException failed) {
            throw failed.getCause() instanceof ApiException api ? api : ApiException.internal("embedding failed: " + failed.getCause());
        }
        metrics.tokens(model.id(), "embedded", e.tokens());
        return body(model.id(), e, format.equals("base64"));
    }

    /** The first text over the model's context, as OpenAI reports it. */
    private static ApiException overContext(EmbeddingSession session, List<String> input) {
        for (String text : input) {
            int tokens = session.tokenizer().ids(text).size() + 2;   // [CLS] and [SEP]
            if (tokens > session.maxLength()) return ApiException.contextExceeded("input", tokens, session.maxLength());
        }
        throw new IllegalStateException("the session cut a text, yet none is over its " + session.maxLength() + " tokens");
    }

    private static ObjectNode body(String model, SentenceEmbeddings e, boolean base64) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (int i = 0; i < e.count(); i++) {
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            float[] v = e.vector(i);
            if (base64) {
                ByteBuffer bytes = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(v);
                item.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
            } else {
                ArrayNode values = item.putArray("embedding");
                for (float x : v) values.add(x);
            }
        }
        root.put("model", model);
        ObjectNode usage = root.putObject("usage");
        usage.put("prompt_tokens", e.tokens());
        usage.put("total_tokens", e.tokens());
        return root;
    }
}
