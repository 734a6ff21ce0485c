package dev.offload.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.session.SentenceEmbeddings;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * A bounded load test on 127.0.0.1: 16 concurrent clients x 50 embedding requests of 1 to 3 texts each. Every answer
 * must be the session's own bits for its texts; the batcher must have coalesced requests (fewer device runs than
 * requests, runs larger than any one request). Prints throughput against one client, p50/p99 latency and the batch
 * sizes formed.
 */
class EmbeddingLoadTest {
    static final int CLIENTS = 16, REQUESTS = 50;
    static final List<String> POOL = List.of(
            "Hello.", "A man is playing a guitar on stage.", "Someone performs music with a guitar in front of an audience.",
            "The stock market fell sharply this morning.", "Share prices dropped steeply at the opening bell.",
            "My cat sleeps on the windowsill all afternoon.", "Quantum computers use qubits instead of bits.", "Rain.",
            "Bread rises because yeast produces carbon dioxide.", "Is this the way to the railway station?",
            "Photosynthesis converts light energy into chemical energy stored in glucose.",
            "The committee will publish its final report on the causes of the flood next spring.",
            "He forgot his umbrella again.", "Volcanoes form where tectonic plates meet.", "Please pass the salt.",
            "The library opens at nine on weekdays and at ten on weekends.", "Seven.", "Whales are mammals, not fish.",
            "The train was delayed by snow on the tracks.", "She learned to play chess from her grandfather.");
    /** Exact decimals: a float's shortest decimal parses back to the same float. */
    static final ObjectMapper DECIMALS = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private record Outcome(double seconds, int sentences) {}

    @Test
    void sixteenClientsGetCorrectAnswersInSharedDeviceRuns() throws Exception {
        SentenceEmbeddings expected = TestModels.encoder().embed(POOL);
        try (OffloadServer server = OffloadServer.start(TestModels.options(), new ServedModels(List.of(TestModels.servedEncoder())))) {
            TestHttp http = new TestHttp(server);
            for (int r = 0; r < REQUESTS; r++) request(http, expected, 99, r);   // once unmeasured: the first run of each shape plans its graph
            List<Outcome> alone = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int r = 0; r < REQUESTS; r++) alone.add(request(http, expected, 99, r));
            double aloneSeconds = (System.nanoTime() - t0) / 1e9;
            SortedMap<Integer, Long> before = server.metrics().batchSizes(TestModels.ENCODER);

            List<Outcome> loaded = new ArrayList<>();
            long t1 = System.nanoTime();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<List<Outcome>>> futures = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    futures.add(clients.submit(() -> {
                        List<Outcome> mine = new ArrayList<>();
                        for (int r = 0; r < REQUESTS; r++) mine.add(request(http, expected, client, r));
                        return mine;
                    }));
                }
                for (Future<List<Outcome>> f : futures) loaded.addAll(f.get());
            }
            double loadedSeconds = (System.nanoTime() - t1) / 1e9;
            SortedMap<Integer, Long> runs = difference(server.metrics().batchSizes(TestModels.ENCODER), before);

            long runCount = runs.values().stream().mapToLong(Long::longValue).sum();
            int loadedSentences = loaded.stream().mapToInt(Outcome::sentences).sum();
            assertEquals(CLIENTS * REQUESTS, loaded.size());
            assertEquals(loadedSentences, runs.entrySet().stream().mapToLong(e -> (long) e.getKey() * e.getValue()).sum(),
                    "the runs did not embed exactly the requests' sentences");
            assertTrue(runCount < loaded.size(), runCount + " device runs for " + loaded.size() + " requests: nothing was batched");
            assertTrue(runs.lastKey() > 3, "no run was larger than one request (at most 3 texts): " + runs);
            assertTrue(loadedSeconds < 60, "the load took " + loadedSeconds + " s");
            System.out.printf("serve load: 1 client: %.1f requests/s, %.1f sentences/s, p50 %.1f ms, p99 %.1f ms%n", REQUESTS / aloneSeconds,
                    alone.stream().mapToInt(Outcome::sentences).sum() / aloneSeconds, percentile(alone, 50), percentile(alone, 99));
            System.out.printf("serve load: %d clients: %.1f requests/s, %.1f sentences/s, p50 %.1f ms, p99 %.1f ms, %d requests in %d device runs%n",
                    CLIENTS, loaded.size() / loadedSeconds, loadedSentences / loadedSeconds, percentile(loaded, 50), percentile(loaded, 99),
                    loaded.size(), runCount);
            System.out.println("serve load: sentences per device run -> runs: " + runs);
        }
    }

    /** Request {@code r} of {@code client}: 1 to 3 pool texts, as floats or base64 by turns; checks every bit. */
    private static Outcome request(TestHttp http, SentenceEmbeddings expected, int client, int r) throws Exception {
        int count = 1 + (client + r) % 3, first = (client * 7 + r * 3) % POOL.size();
        boolean base64 = (client + r) % 2 == 0;
        ObjectNode body = RequestFields.JSON.createObjectNode().put("model", TestModels.ENCODER);
        if (base64) body.put("encoding_format", "base64");
        List<Integer> picked = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            int i = (first + k * 5) % POOL.size();
            picked.add(i);
            body.withArray("input").add(POOL.get(i));
        }
        long t0 = System.nanoTime();
        TestHttp.Reply reply = http.post("/v1/embeddings", body.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(200, reply.status(), reply.body());
        JsonNode data = DECIMALS.readTree(reply.body()).get("data");
        assertEquals(count, data.size());
        for (int k = 0; k < count; k++) {
            float[] got = base64 ? fromBase64(data.get(k).get("embedding").asText()) : fromDecimals(data.get(k).get("embedding"));
            assertArrayEquals(OpenAiSdkTest.bits(expected.vector(picked.get(k))), OpenAiSdkTest.bits(got),
                    "client " + client + " request " + r + " text " + picked.get(k));
        }
        return new Outcome(seconds, count);
    }

    private static float[] fromBase64(String s) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(s)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return v;
    }

    private static float[] fromDecimals(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) v[i] = Float.parseFloat(array.get(i).decimalValue().toString());
        return v;
    }

    private static SortedMap<Integer, Long> difference(SortedMap<Integer, Long> after, SortedMap<Integer, Long> before) {
        SortedMap<Integer, Long> d = new TreeMap<>();
        after.forEach((size, n) -> {
            long delta = n - before.getOrDefault(size, 0L);
            if (delta > 0) d.put(size, delta);
        });
        return d;
    }

    private static double percentile(List<Outcome> outcomes, int p) {
        double[] ms = outcomes.stream().mapToDouble(o -> o.seconds() * 1e3).sorted().toArray();
        return ms[Math.min(ms.length - 1, (int) Math.ceil(p / 100.0 * ms.length) - 1)];
    }
}
