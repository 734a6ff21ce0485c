package dev.offload.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The server's routes: finds the route for a method and path, checks the API key, runs the route and answers any
 * {@link ApiException} with OpenAI's error JSON; every answer is counted in {@link ServerMetrics} under its route. Jetty
 * calls it on a virtual thread per request (it is a blocking handler), so a route may wait for its model's device.
 */
final class ApiHandler extends Handler.Abstract {
    /** Status recorded for a client that went away before its answer was written (nginx's convention). */
    static final int CLIENT_GONE = 499;

    private enum Route {
        HEALTH("GET", "/health", false),
        MODELS("GET", "/v1/models", true),
        METRICS("GET", "/metrics", true),
        EMBEDDINGS("POST", "/v1/embeddings", true),
        COMPLETIONS("POST", "/v1/completions", true),
        CHAT("POST", "/v1/chat/completions", true);

        final String method, path;
        final boolean needsKey;

        Route(String method, String path, boolean needsKey) {
            this.method = method;
            this.path = path;
            this.needsKey = needsKey;
        }

        static Route of(String path) {
            for (Route r : values()) if (r.path.equals(path)) return r;
            return null;
        }
    }

    private final ServerOptions options;
    private final ServedModels models;
    private final ServerMetrics metrics;
    private final EmbeddingsRoute embeddings;
    private final GenerationRoute completions, chat;
    private final byte[] expectedAuthorization;

    ApiHandler(ServerOptions options, ServedModels models, ServerMetrics metrics, Map<String, EmbeddingBatcher> batchers,
               Map<String, GenerationScheduler> schedulers) {
        this.options = options;
        this.models = models;
        this.metrics = metrics;
        this.embeddings = new EmbeddingsRoute(models, batchers, metrics);
        this.completions = new GenerationRoute(CompletionShape.TEXT, models, schedulers, options.context());
        this.chat = new GenerationRoute(CompletionShape.CHAT, models, schedulers, options.context());
        this.expectedAuthorization = options.apiKey() == null ? null : ("Bearer " + options.apiKey()).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long t0 = System.nanoTime();
        String path = Request.getPathInContext(request);
        Route route = Route.of(path);
        ApiExchange x = new ApiExchange(request, response, options.maxBodyBytes());
        int status;
        try {
            try {
                if (route == null) throw ApiException.notFound(request.getMethod(), path);
                if (!route.method.equals(request.getMethod())) throw ApiException.methodNotAllowed(request.getMethod(), path);
                if (route.needsKey) authorize(request);
                serve(route, x);
                status = x.status();
            } catch (ApiException e) {
                if (x.committed()) throw new IOException("failed after the answer began: " + e.getMessage(), e);
                x.error(e);
                status = e.status();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            } catch (RuntimeException e) {
                if (x.committed()) throw new IOException("failed after the answer began: " + e, e);
                x.error(ApiException.internal(e.toString()));
                status = 500;
            }
            callback.succeeded();
        } catch (IOException gone) {
            // The client went away (or the stream broke): nothing more can be written.
            status = CLIENT_GONE;
            callback.failed(gone);
        }
        metrics.request(route == null ? "other" : route.path, status, (System.nanoTime() - t0) / 1e9);
        return true;
    }

    private void serve(Route route, ApiExchange x) throws IOException, InterruptedException {
        switch (route) {
            case HEALTH -> x.json(200, JsonNodeFactory.instance.objectNode().put("status", "ok"));
            case MODELS -> x.json(200, modelList());
            case METRICS -> x.text(200, "text/plain; version=0.0.4; charset=utf-8", metrics.prometheusText());
            case EMBEDDINGS -> x.json(200, embeddings.answer(x.body()));
            case COMPLETIONS -> completions.serve(x);
            case CHAT -> chat.serve(x);
        }
    }

    /** A constant-time comparison, so the key cannot be guessed byte by byte from response times. */
    private void authorize(Request request) {
        if (expectedAuthorization == null) return;
        String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (given == null || !MessageDigest.isEqual(expectedAuthorization, given.getBytes(StandardCharsets.UTF_8))) {
            throw ApiException.unauthorized();
        }
    }

    private ObjectNode modelList() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (ServedModel m : models.all()) {
            ObjectNode item = data.addObject();
            item.put("id", m.id());
            item.put("object", "model");
            item.put("created", 0);
            item.put("owned_by", "offload");
            item.put("kind", m instanceof ServedModel.Encoder ? "embeddings" : "generation");
        }
        return root;
    }
}
