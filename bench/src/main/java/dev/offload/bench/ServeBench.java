package dev.offload.bench;

import dev.offload.model.ModelCatalog;
import dev.offload.model.TokenBatch;
import dev.offload.server.OffloadServer;
import dev.offload.server.ServedModels;
import dev.offload.server.ServerOptions;
import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EmbeddingSession;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code ./offload serve} under load: all-MiniLM-L6-v2-q embeddings of one sentence per request through the HTTP
 * server (loopback, one client, then {@link #CLIENTS} concurrent clients whose requests the batcher coalesces into runs
 * of up to {@link #MAX_BATCH}), against the same {@link EmbeddingSession} called directly with batches of
 * {@link #MAX_BATCH} (the server's overhead: JSON, HTTP, the collection window) and ONNX Runtime on the same padded
 * batches with no server at all (the ceiling).
 */
final class ServeBench {
    private ServeBench() {}

    static final int MAX_BATCH = 32, CLIENTS = 16;

    static final List<String> SENTENCES = List.of(
            "A man is playing a guitar on stage.", "The stock market fell sharply this morning.",
            "My cat sleeps on the windowsill all afternoon.", "Quantum computers use qubits instead of bits.",
            "Heavy rain flooded the streets of the old town overnight.", "She finished the marathon in under four hours.",
            "Is this the way to the railway station?", "Bread rises because yeast produces carbon dioxide.");

    static void run(Report report, String deviceSpec, boolean quick, int threads) throws Exception {
        int clients = quick ? 4 : CLIENTS, perClient = quick ? 5 : 50, reps = quick ? 1 : 3;
        int requests = clients * perClient;
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < requests; i++) texts.add(SENTENCES.get(i % SENTENCES.size()));
        String shape = ModelCatalog.ALL_MINILM_L6_V2_Q.id + " x" + requests + " sentences";
        EmbeddingSession session;
        try {
            session = EmbeddingSession.open(EmbeddingOptions.defaults().withPlacement(deviceSpec).withBatchSize(MAX_BATCH));
        } catch (RuntimeException e) {
            Peer.note("serve: no encoder session on '" + deviceSpec + "' (" + Peer.rootMessage(e) + "); section skipped");
            return;
        }
        try (session) {
            String device = session.device().split(" ")[0];
            session.embed(texts.subList(0, Math.min(MAX_BATCH, texts.size())));   // program builds, weight uploads
            double aloneNs = Timing.medianNanos(1, reps, 60, Timing.wall(() -> session.embed(texts)));
            report.add(new BenchRow("serve", shape, "offload-session", device, aloneNs / 1e6, requests / (aloneNs / 1e9), "sentences/s",
                    Double.NaN, "EmbeddingSession.embed, batches of " + MAX_BATCH + ", tokenization to pooling, no server"));

            ServerOptions options = ServerOptions.defaults().withAddress("127.0.0.1", 0).withBatching(MAX_BATCH, Duration.ofMillis(2))
                    .withMaxQueue(Math.max(256, requests));
            double manyNs;
            try (OffloadServer server = OffloadServer.start(options, ServedModels.ofEncoder("minilm", session))) {
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                URI uri = URI.create(server.url() + "/v1/embeddings");
                load(http, uri, clients, 2);   // warm-up: connections, the first shapes the batcher forms
                double oneNs = Timing.medianNanos(0, reps, 60, Timing.wall(() -> load(http, uri, 1, perClient)));
                report.add(new BenchRow("serve", ModelCatalog.ALL_MINILM_L6_V2_Q.id + " x" + perClient + " requests", "offload-server 1 client",
                        device, oneNs / 1e6, perClient / (oneNs / 1e9), "requests/s", Double.NaN,
                        "one sentence per request, one client at a time: latency-bound (mean " + fmt(oneNs / perClient / 1e6) + " ms per request)"));
                manyNs = Timing.medianNanos(0, reps, 60, Timing.wall(() -> load(http, uri, clients, perClient)));
                report.add(new BenchRow("serve", shape, "offload-server " + clients + " clients", device, manyNs / 1e6,
                        requests / (manyNs / 1e9), "requests/s", aloneNs / manyNs,
                        "one sentence per request (= sentences/s), batched up to " + MAX_BATCH + "; ratio = the session's own time / through the server"));
            }

            Optional<EndToEndBench.OrtEncoder> ort = Peer.open("ONNX Runtime (serve ceiling)",
                    () -> new EndToEndBench.OrtEncoder(ModelCatalog.ALL_MINILM_L6_V2_Q.onnxBytes(), threads));
            if (ort.isEmpty()) return;
            // The same padded batches the session runs (length buckets of 16): the model alone, no tokenization or pooling.
            List<TokenBatch> batches = new ArrayList<>();
            List<TokenBatch.Sequence> seqs = session.tokenize(texts).sequences();
            for (int from = 0; from < seqs.size(); from += MAX_BATCH) batches.add(session.pad(seqs.subList(from, Math.min(seqs.size(), from + MAX_BATCH)), 0));
            try (EndToEndBench.OrtEncoder o = ort.get()) {
                double ortNs = Timing.medianNanos(1, reps, 60, Timing.wall(() -> batches.forEach(o::lastHiddenState)));
                report.add(new BenchRow("serve", shape, "onnxruntime", "cpu", ortNs / 1e6, requests / (ortNs / 1e9), "sentences/s", ortNs / manyNs,
                        "the ceiling: no server, no tokenization or pooling, batches of " + MAX_BATCH + ", " + threads
                                + " intra-op threads; ratio = this time / the server's with " + clients + " clients"));
            }
        }
    }

    /** {@code clients} concurrent clients, each sending {@code perClient} one-sentence requests in turn; fails on any non-200. */
    private static void load(HttpClient http, URI uri, int clients, int perClient) {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                running.add(pool.submit(() -> {
                    for (int r = 0; r < perClient; r++) {
                        String text = SENTENCES.get((client + r) % SENTENCES.size());
                        HttpRequest req = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"minilm\", \"input\": \"" + text + "\"}")).build();
                        HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
                        if (resp.statusCode() != 200) throw new IllegalStateException("the server answered " + resp.statusCode() + ": " + resp.body());
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) f.get();
        } catch (Exception e) {
            throw new IllegalStateException("serve load failed: " + e.getMessage(), e);
        }
    }

    private static String fmt(double v) { return String.format(Locale.ROOT, "%.1f", v); }
}
