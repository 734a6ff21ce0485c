package dev.offload.server;

import dev.offload.cli.CommonOptions;
import dev.offload.cli.UserError;
import dev.offload.model.UnsupportedModelException;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.PlacementSpec;
import dev.offload.session.EmbeddingOptions;
import dev.offload.session.GenerationOptions;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code offload serve}: the OpenAI-compatible HTTP server over the models named, until the process is stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve models over HTTP with OpenAI's API: POST /v1/embeddings (sentence encoders), POST /v1/completions and "
                + "/v1/chat/completions (GGUF decoder LLMs, stream: true as server-sent events), GET /v1/models, /health, /metrics "
                + "(Prometheus). Concurrent embedding requests are batched into one device run; generations run one at a time per model.",
                "Binds 127.0.0.1 unless --host says otherwise."})
public final class ServeCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--model", required = true, paramLabel = "SPEC",
            description = "A model to serve, repeatable: a known encoder (all-minilm-l6-v2-q, bge-small-en-v15-q, all-minilm-l6-v2), "
                    + "an .onnx encoder (tokenizer.json beside it), or a .gguf decoder. Clients name it by its id: the known name, or the file name without extension.")
    List<String> models;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "Port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--device", paramLabel = "SPEC", description = "Device of the encoders (java, cl:cpu, cl:gpu, cl:0:0, ...). Default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else CPU.")
    String device;

    @Option(names = "--placement", paramLabel = "RULES|auto", description = "Placement of the encoders' nodes instead of one device: attention=cl:gpu,*=cl:cpu, or auto.")
    String placement;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "32", description = "Sentences per embedding device run at most, from any number of requests (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--batch-window-ms", paramLabel = "MS", defaultValue = "2", description = "How long the oldest waiting embedding request waits for others to join its run (default ${DEFAULT-VALUE}).")
    long batchWindowMs;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "256", description = "Requests waiting per model at most; more are answered 429 with Retry-After (default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:OFFLOAD_API_KEY}",
            description = "Require 'Authorization: Bearer KEY' on every route but /health (default: $OFFLOAD_API_KEY, else none).")
    String apiKey;

    @Option(names = "--max-body", paramLabel = "BYTES", defaultValue = "16777216", description = "Largest request body; larger is 413 (default ${DEFAULT-VALUE}).")
    long maxBody;

    @Option(names = "--idle-timeout", paramLabel = "S", defaultValue = "30", description = "Close a connection silent this many seconds (default ${DEFAULT-VALUE}).")
    long idleTimeout;

    @Option(names = "--header-timeout", paramLabel = "S", defaultValue = "10", description = "Close a connection that has not sent a whole request head this many seconds after opening (slowloris; default ${DEFAULT-VALUE}).")
    long headerTimeout;

    @Option(names = "--ctx", paramLabel = "N", defaultValue = "2048", description = "KV cache positions per generation, prompt included (default ${DEFAULT-VALUE}, at most the model's).")
    int context;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        common.binding();   // applies --verbose
        if (device != null && placement != null) throw new UserError("give --device or --placement, not both");
        ServerOptions options;
        EmbeddingOptions encoders;
        GenerationOptions decoders;
        try {
            options = new ServerOptions(host, port, maxBatch, Duration.ofMillis(batchWindowMs), maxQueue, apiKey == null || apiKey.isEmpty() ? null : apiKey,
                    maxBody, Duration.ofSeconds(idleTimeout), Duration.ofSeconds(headerTimeout), context);
            encoders = EmbeddingOptions.defaults()
                    .withPlacement(PlacementSpec.fromOptions(device, placement))
                    .withRegistry(common.registry())
                    .withBatchSize(maxBatch);
            decoders = GenerationOptions.defaults().withPlacement(encoders.placement()).withRegistry(encoders.registry())
                    .withContext(context > 0 ? context : 0);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        ServedModels served = open(encoders, decoders);
        warmUp(served, out);
        OffloadServer server;
        try {
            server = OffloadServer.start(options, served);
        } catch (java.io.IOException e) {
            served.close();
            throw new UserError("cannot listen on " + host + ":" + port + ": " + e.getMessage());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            served.close();
        }, "offload-serve-shutdown"));
        out.printf("serving %s on %s (OpenAI API under /v1%s; Ctrl-C stops)%n", String.join(", ", served.ids()), server.url(),
                options.apiKey() != null ? ", API key required" : "");
        out.flush();
        server.join();
        return 0;
    }

    private ServedModels open(EmbeddingOptions encoders, GenerationOptions decoders) {
        try {
            return ServedModels.open(models, encoders, decoders);
        } catch (UnsupportedModelException | GraphRuntime.FallbackRefused | IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** Builds each encoder's programs and uploads its weights now, not on the first client's request. */
    private static void warmUp(ServedModels served, PrintWriter out) {
        for (ServedModel m : served.all()) {
            switch (m) {
                case ServedModel.Encoder e -> {
                    long t0 = System.nanoTime();
                    e.session().embed(List.of("warm-up"));
                    out.printf("model %s: encoder on %s, %d dimensions, at most %d tokens per input; warm-up %.0f ms%n", e.id(),
                            e.session().device(), e.session().dimension(), e.session().maxLength(), (System.nanoTime() - t0) / 1e6);
                }
                case ServedModel.Decoder d -> {
                    long t0 = System.nanoTime();
                    d.session().warmUp();
                    out.printf("model %s: decoder %s on %s, context %d, chat template %s; warm-up %.0f ms%n", d.id(), d.session().model(),
                            d.session().backend().device(), d.session().context(), d.session().chatTemplate().isPresent() ? "yes" : "none",
                            (System.nanoTime() - t0) / 1e6);
                }
            }
        }
        out.flush();
    }
}
