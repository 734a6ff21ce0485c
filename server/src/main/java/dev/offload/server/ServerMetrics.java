package dev.offload.server;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * What {@code GET /metrics} shows, in Prometheus' text format: requests by route and status, latency histograms per
 * route, queue depth per model, the embedding batches formed (sentences and requests per device run), and tokens
 * (prompt, generated, embedded) with the last generation's decode rate. Thread-safe; label values are bounded (routes
 * the server knows, models it serves, statuses).
 */
final class ServerMetrics {
    private final Map<String, LongAdder> requests = new ConcurrentSkipListMap<>();
    private final Map<String, BucketHistogram> latency = new ConcurrentSkipListMap<>();
    private final Map<String, IntSupplier> queueDepth = new ConcurrentSkipListMap<>();
    private final Map<String, BucketHistogram> batchSentences = new ConcurrentSkipListMap<>();
    private final Map<String, BucketHistogram> batchRequests = new ConcurrentSkipListMap<>();
    private final Map<String, Map<Integer, LongAdder>> batchSizeCounts = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> tokens = new ConcurrentSkipListMap<>();
    private final Map<String, LongAdder> generations = new ConcurrentSkipListMap<>();
    private final Map<String, Double> decodeRate = new ConcurrentSkipListMap<>();

    /** One answered request; {@code route} is a route the server knows, else "other". */
    void request(String route, int status, double seconds) {
        requests.computeIfAbsent(labels("route", route, "status", Integer.toString(status)), k -> new LongAdder()).increment();
        latency.computeIfAbsent(labels("route", route), k -> new BucketHistogram(BucketHistogram.SECONDS)).observe(seconds);
    }

    /** Requests waiting for {@code model}'s device (not yet in a run). */
    void queue(String model, IntSupplier depth) { queueDepth.put(labels("model", model), depth); }

    /** One device run of {@code sentences} sentences from {@code requests} requests. */
    void batch(String model, int sentences, int requests) {
        String l = labels("model", model);
        batchSentences.computeIfAbsent(l, k -> new BucketHistogram(BucketHistogram.SIZES)).observe(sentences);
        batchRequests.computeIfAbsent(l, k -> new BucketHistogram(BucketHistogram.SIZES)).observe(requests);
        batchSizeCounts.computeIfAbsent(model, k -> new ConcurrentHashMap<>()).computeIfAbsent(sentences, k -> new LongAdder()).increment();
    }

    /** {@code kind}: prompt, generated or embedded. */
    void tokens(String model, String kind, long n) {
        tokens.computeIfAbsent(labels("model", model, "kind", kind), k -> new LongAdder()).add(n);
    }

    /** A finished generation: why it ended (stop, length, cancelled, error) and, when it decoded, its tokens/s. */
    void generation(String model, String finish, double tokensPerSecond) {
        generations.computeIfAbsent(labels("model", model, "finish", finish), k -> new LongAdder()).increment();
        if (tokensPerSecond > 0 && Double.isFinite(tokensPerSecond)) decodeRate.put(labels("model", model), tokensPerSecond);
    }

    /** How many device runs of each size (sentences) {@code model} has had. */
    SortedMap<Integer, Long> batchSizes(String model) {
        SortedMap<Integer, Long> out = new TreeMap<>();
        batchSizeCounts.getOrDefault(model, Map.of()).forEach((size, n) -> out.put(size, n.sum()));
        return out;
    }

    /** Generations of {@code model} that ended for {@code finish}. */
    long generations(String model, String finish) {
        LongAdder n = generations.get(labels("model", model, "finish", finish));
        return n == null ? 0 : n.sum();
    }

    String prometheusText() {
        StringBuilder out = new StringBuilder(4096);
        family(out, "offload_http_requests_total", "counter", "HTTP requests answered, by route and status.");
        requests.forEach((l, n) -> sample(out, "offload_http_requests_total", l, n.sum()));
        family(out, "offload_http_request_duration_seconds", "histogram", "Time from a request's arrival to its last byte, by route.");
        latency.forEach((l, h) -> h.write(out, "offload_http_request_duration_seconds", l));
        family(out, "offload_queue_depth", "gauge", "Requests waiting for a model's device (not yet in a run).");
        queueDepth.forEach((l, d) -> sample(out, "offload_queue_depth", l, d.getAsInt()));
        family(out, "offload_embedding_batch_sentences", "histogram", "Sentences per device run formed by the embedding batcher.");
        batchSentences.forEach((l, h) -> h.write(out, "offload_embedding_batch_sentences", l));
        family(out, "offload_embedding_batch_requests", "histogram", "Requests coalesced into one device run.");
        batchRequests.forEach((l, h) -> h.write(out, "offload_embedding_batch_requests", l));
        family(out, "offload_tokens_total", "counter", "Tokens by model and kind (prompt, generated, embedded).");
        tokens.forEach((l, n) -> sample(out, "offload_tokens_total", l, n.sum()));
        family(out, "offload_generations_total", "counter", "Generations by model and how they ended (stop, length, cancelled, error).");
        generations.forEach((l, n) -> sample(out, "offload_generations_total", l, n.sum()));
        family(out, "offload_generation_tokens_per_second", "gauge", "Decode rate of the model's last finished generation.");
        decodeRate.forEach((l, r) -> sample(out, "offload_generation_tokens_per_second", l, r));
        return out.toString();
    }

    private static void family(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String labels, double value) {
        out.append(name).append('{').append(labels).append("} ");
        if (value == Math.rint(value) && Math.abs(value) < 1e15) out.append((long) value); else out.append(value);
        out.append('\n');
    }

    /** {@code k1="v1",k2="v2"} with Prometheus' escapes. */
    private static String labels(String... kv) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < kv.length; i += 2) {
            if (i > 0) b.append(',');
            b.append(kv[i]).append("=\"").append(kv[i + 1].replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"');
        }
        return b.toString();
    }
}
