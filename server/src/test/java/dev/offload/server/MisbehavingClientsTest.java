package dev.offload.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Clients that misbehave: slowloris headers, a stalled body, a streaming client that hangs up, more requests than the
 * queue holds. The server survives each and keeps answering everyone else.
 */
class MisbehavingClientsTest {
    /** A chat that the slow model takes many seconds to finish: only cancellation ends it early. */
    static final String LONG_STREAM = "{\"model\": \"" + TestModels.SLOW + "\", \"stream\": true, \"temperature\": 0, \"max_tokens\": 3000,"
            + " \"messages\": [{\"role\": \"user\", \"content\": \"the a to\"}]}";

    OffloadServer server;

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    private OffloadServer start(ServerOptions options) throws Exception {
        server = OffloadServer.start(options, new ServedModels(List.of(TestModels.servedEncoder(), TestModels.servedSlow())));
        return server;
    }

    @Test
    void slowlorisConnectionsAreClosedAndNeverHoldUpOtherClients() throws Exception {
        start(TestModels.options().withTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(2)));
        List<RawConnection> slow = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            RawConnection c = new RawConnection(server.port());
            c.send("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n");
            slow.add(c);
        }
        TestHttp http = new TestHttp(server);
        long t0 = System.nanoTime();
        double[] closedAfter = new double[slow.size()];
        int served = 0;
        // Each slow client sends a header byte every 100 ms, well within the 3 s idle timeout, for up to 7 s; only the
        // 2 s request-head deadline can close them. Meanwhile other clients are served.
        for (int round = 0; round < 70; round++) {
            for (int i = 0; i < slow.size(); i++) {
                if (closedAfter[i] == 0 && !slow.get(i).send("X")) closedAfter[i] = (System.nanoTime() - t0) / 1e9;
            }
            {
                long s0 = System.nanoTime();
                assertEquals(200, http.post("/v1/embeddings", "{\"input\": \"served while slowloris waits\"}").status());
                assertTrue((System.nanoTime() - s0) / 1e9 < 2, "a request beside 32 slowloris connections waited over 2 s");
                served++;
            }
            if (java.util.Arrays.stream(closedAfter).allMatch(t -> t > 0)) break;
            Thread.sleep(100);
        }
        for (RawConnection c : slow) c.close();
        for (double t : closedAfter) assertTrue(t > 1.5 && t < 4.5, "a slowloris connection was closed after " + t + " s, not at its 2 s deadline (0: never)");
        assertTrue(served >= 5, "only " + served + " requests were served meanwhile");
    }

    @Test
    void aStalledBodyTimesOutAndAClientThatNeverSpeaksIsClosed() throws Exception {
        start(TestModels.options().withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(5)));
        try (RawConnection stalled = new RawConnection(server.port()); RawConnection silent = new RawConnection(server.port())) {
            stalled.send("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"input\":");
            assertTrue(stalled.closedByServerWithin(4000), "a body stalled past the idle timeout kept its connection");
            assertTrue(silent.closedByServerWithin(4000), "a connection that never sent a byte outlived the idle timeout");
        }
        assertEquals(200, new TestHttp(server).post("/v1/embeddings", "{\"input\": \"still here\"}").status());
    }

    @Test
    void aClientThatHangsUpMidStreamCancelsItsGeneration() throws Exception {
        start(TestModels.options());
        try (RawConnection c = new RawConnection(server.port())) {
            c.post("/v1/chat/completions", LONG_STREAM);
            String head = c.readUntil("\"content\":\"");   // the opening chunk has content "", the next ones text
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertTrue(head.contains("text/event-stream"), head);
        }
        awaitTrue(() -> server.metrics().generations(TestModels.SLOW, "cancelled") == 1, 10_000, "the generation was not cancelled");
        // The model is free again: a short request is answered at once.
        long t0 = System.nanoTime();
        TestHttp.Reply r = new TestHttp(server).post("/v1/chat/completions", "{\"model\": \"" + TestModels.SLOW
                + "\", \"max_tokens\": 3, \"temperature\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"the\"}]}");
        assertEquals(200, r.status(), r.body());
        assertTrue((System.nanoTime() - t0) / 1e9 < 5, "the next request waited for the abandoned generation");
        assertEquals(1, server.metrics().generations(TestModels.SLOW, "cancelled"));
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        start(TestModels.options().withMaxQueue(1));
        try (RawConnection running = new RawConnection(server.port()); RawConnection waiting = new RawConnection(server.port())) {
            running.post("/v1/chat/completions", LONG_STREAM);
            running.readUntil("\"content\":\"");
            waiting.post("/v1/chat/completions", LONG_STREAM);
            awaitTrue(() -> server.metrics().prometheusText().contains("offload_queue_depth{model=\"" + TestModels.SLOW + "\"} 1"), 5000,
                    "the second generation never queued");
            TestHttp.Reply r = new TestHttp(server).post("/v1/chat/completions", LONG_STREAM.replace("true", "false"));
            assertEquals("rate_limit_exceeded", RequestErrorsTest.error(r, 429).get("code").asText());
            assertEquals("1", r.retryAfter());
            // Embeddings have a queue of their own and are not refused.
            assertEquals(200, new TestHttp(server).post("/v1/embeddings", "{\"input\": \"a\"}").status());
        }
        // Both hung up: both generations stop.
        awaitTrue(() -> server.metrics().generations(TestModels.SLOW, "cancelled") == 2, 15_000, "hung-up generations kept running");
        assertFalse(server.metrics().prometheusText().contains("offload_queue_depth{model=\"" + TestModels.SLOW + "\"} 1"));
    }

    @Test
    void requestsWaitingForTheModelTieUpNoWorkers() throws Exception {
        // Jetty's pool here has 16 threads; 48 requests waiting at once would starve it if each held one.
        start(TestModels.options());
        TestHttp http = new TestHttp(server);
        http.get("/health");   // the JDK client's first request starts its own threads: not what is timed below
        List<RawConnection> waiting = new ArrayList<>();
        try {
            for (int i = 0; i < 48; i++) {
                RawConnection c = new RawConnection(server.port());
                c.post("/v1/chat/completions", LONG_STREAM);
                waiting.add(c);
            }
            awaitTrue(() -> server.metrics().prometheusText().contains("offload_queue_depth{model=\"" + TestModels.SLOW + "\"} 47"), 10_000,
                    "47 generations never queued behind the first");
            long t0 = System.nanoTime();
            assertEquals(200, http.get("/health").status());
            double health = (System.nanoTime() - t0) / 1e9;
            assertEquals(200, http.post("/v1/embeddings", "{\"input\": \"not starved\"}").status());
            double both = (System.nanoTime() - t0) / 1e9;
            assertTrue(both < 2, "other requests waited behind the queued ones: /health " + health + " s, with an embedding " + both + " s");
        } finally {
            for (RawConnection c : waiting) c.close();
        }
        awaitTrue(() -> server.metrics().generations(TestModels.SLOW, "cancelled") == 48, 30_000, "hung-up generations kept running");
    }

    static void awaitTrue(BooleanSupplier condition, long millis, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) throw new AssertionError(what + " within " + millis + " ms");
            Thread.sleep(20);
        }
    }
}
