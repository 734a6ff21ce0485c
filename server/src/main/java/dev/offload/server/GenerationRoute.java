package dev.offload.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Map;
import java.util.UUID;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: the request is checked and queued on its
 * model's scheduler, then answered whole, or with {@code "stream": true} as server-sent events in OpenAI's chunk format
 * ending with {@code data: [DONE]} ({@code stream_options.include_usage} adds a usage chunk before it). A streaming
 * client that goes away cancels its generation.
 */
final class GenerationRoute {
    private final CompletionShape shape;
    private final ServedModels models;
    private final Map<String, GenerationScheduler> schedulers;
    private final int context;

    GenerationRoute(CompletionShape shape, ServedModels models, Map<String, GenerationScheduler> schedulers, int context) {
        this.shape = shape;
        this.models = models;
        this.schedulers = schedulers;
        this.context = context;
    }

    void serve(ApiExchange x) throws IOException, InterruptedException {
        RequestFields f = x.body();
        ServedModel.Decoder model = models.decoder(f.string("model", null));
        GenerationRequest request = GenerationFields.parse(f, shape, model.session(), context);
        boolean stream = f.bool("stream", false);
        JsonNode options = f.node("stream_options");
        boolean usageChunk = stream && options != null && options.path("include_usage").asBoolean(false);
        GenerationJob job = schedulers.get(model.id()).submit(request);
        x.request().addFailureListener(failure -> job.cancel());
        Answer answer = new Answer(shape.idPrefix + UUID.randomUUID().toString().replace("-", ""), System.currentTimeMillis() / 1000, model.id());
        try {
            if (stream) stream(x, job, answer, usageChunk); else whole(x, job, answer);
        } finally {
            job.cancel();   // a no-op once it has finished; stops it if this thread leaves early
        }
    }

    /** What every chunk and answer repeats. */
    private record Answer(String id, long created, String model) {}

    private void whole(ApiExchange x, GenerationJob job, Answer a) throws IOException, InterruptedException {
        StringBuilder text = new StringBuilder();
        while (true) {
            switch (job.next()) {
                case GenerationJob.Text t -> text.append(t.text());
                case GenerationJob.Failed failed -> throw failed.error();
                case GenerationJob.Finished end -> {
                    ObjectNode body = envelope(a, shape.object);
                    body.putArray("choices").add(shape.choice(text.toString(), end.finishReason()));
                    body.set("usage", usage(job, end));
                    x.json(200, body);
                    return;
                }
            }
        }
    }

    private void stream(ApiExchange x, GenerationJob job, Answer a, boolean usageChunk) throws IOException, InterruptedException {
        // The first event decides the status: a generation the session refuses is still a plain error answer.
        GenerationJob.Event event = job.next();
        if (event instanceof GenerationJob.Failed failed) throw failed.error();
        x.startEvents();
        ObjectNode opening = shape.opening();
        if (opening != null) x.event(chunk(a, opening));
        while (true) {
            switch (event) {
                case GenerationJob.Text t -> x.event(chunk(a, shape.chunkChoice(t.text(), null)));
                case GenerationJob.Failed failed -> {
                    x.event(failed.error().body());   // the stream has begun: the error goes in it, as OpenAI's does
                    x.endEvents();
                    return;
                }
                case GenerationJob.Finished end -> {
                    x.event(chunk(a, shape.chunkChoice(null, end.finishReason())));
                    if (usageChunk) {
                        ObjectNode u = envelope(a, shape.chunkObject);
                        u.putArray("choices");
                        u.set("usage", usage(job, end));
                        x.event(u);
                    }
                    x.event("[DONE]");
                    x.endEvents();
                    return;
                }
            }
            event = job.next();
        }
    }

    private ObjectNode chunk(Answer a, ObjectNode choice) {
        ObjectNode c = envelope(a, shape.chunkObject);
        c.putArray("choices").add(choice);
        return c;
    }

    private static ObjectNode envelope(Answer a, String object) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("id", a.id());
        o.put("object", object);
        o.put("created", a.created());
        o.put("model", a.model());
        o.put("system_fingerprint", "offload");
        return o;
    }

    private static ObjectNode usage(GenerationJob job, GenerationJob.Finished end) {
        ObjectNode u = JsonNodeFactory.instance.objectNode();
        int prompt = job.request().promptTokens();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", end.completionTokens());
        u.put("total_tokens", prompt + end.completionTokens());
        return u;
    }
}
