package dev.offload.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Requests the server refuses, each with its status and OpenAI's error JSON, and the server still fine afterwards. */
class RequestErrorsTest {
    static final String KEY = "sk-offload-test";
    static ServedModels models;
    static OffloadServer open, keyed, small;

    @BeforeAll
    static void start() throws Exception {
        models = new ServedModels(List.of(TestModels.servedEncoder(), TestModels.servedTiny()));
        open = OffloadServer.start(TestModels.options().withContext(48), models);
        keyed = OffloadServer.start(TestModels.options().withApiKey(KEY), models);
        small = OffloadServer.start(TestModels.options().withMaxBody(1024), models);
    }

    @AfterAll
    static void stop() {
        for (OffloadServer s : new OffloadServer[] {open, keyed, small}) if (s != null) s.close();
    }

    /** The error body's four fields, as OpenAI's clients read them. */
    static JsonNode error(TestHttp.Reply r, int status) {
        assertEquals(status, r.status(), r.body());
        assertTrue(r.contentType().startsWith("application/json"), r.contentType());
        JsonNode e = r.json().get("error");
        for (String field : List.of("message", "type", "param", "code")) assertTrue(e.has(field), "no '" + field + "' in " + r.body());
        assertTrue(e.get("message").asText().length() > 10, r.body());
        return e;
    }

    @Test
    void malformedJsonAndBodiesThatAreNotObjectsAre400() {
        TestHttp http = new TestHttp(open);
        for (String bad : List.of("{\"model\": ", "not json", "", "[1, 2]", "\"input\"", "{\"input\": \"a\"} trailing")) {
            JsonNode e = error(http.post("/v1/embeddings", bad), 400);
            assertEquals("invalid_request_error", e.get("type").asText());
        }
        assertEquals(200, http.get("/health").status());
    }

    @Test
    void wrongFieldsNameTheirParam() {
        TestHttp http = new TestHttp(open);
        assertEquals("input", error(http.post("/v1/embeddings", "{\"model\": \"all-minilm-l6-v2-q\"}"), 400).get("param").asText());
        assertEquals("input", error(http.post("/v1/embeddings", "{\"input\": [1, 2]}"), 400).get("param").asText());
        assertEquals("encoding_format", error(http.post("/v1/embeddings", "{\"input\": \"a\", \"encoding_format\": \"int8\"}"), 400).get("param").asText());
        assertEquals("dimensions", error(http.post("/v1/embeddings", "{\"input\": \"a\", \"dimensions\": 12}"), 400).get("param").asText());
        assertEquals("temperature", error(http.post("/v1/chat/completions",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": 7}"), 400).get("param").asText());
        assertEquals("n", error(http.post("/v1/completions", "{\"prompt\": \"the\", \"n\": 2}"), 400).get("param").asText());
        assertEquals("messages[0].role", error(http.post("/v1/chat/completions",
                "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}"), 400).get("param").asText());
    }

    @Test
    void unknownModelsRoutesAndMethods() {
        TestHttp http = new TestHttp(open);
        JsonNode e = error(http.post("/v1/embeddings", "{\"model\": \"gpt-9\", \"input\": \"a\"}"), 404);
        assertEquals("model_not_found", e.get("code").asText());
        assertTrue(e.get("message").asText().contains(TestModels.ENCODER), e.toString());
        // A decoder asked for embeddings, and an encoder for a completion.
        error(http.post("/v1/embeddings", "{\"model\": \"" + TestModels.TINY + "\", \"input\": \"a\"}"), 400);
        error(http.post("/v1/completions", "{\"model\": \"" + TestModels.ENCODER + "\", \"prompt\": \"a\"}"), 400);
        error(http.get("/v2/everything"), 404);
        error(http.get("/v1/embeddings"), 405);
    }

    @Test
    void inputOverTheContextIs400ContextLengthExceeded() {
        TestHttp http = new TestHttp(open);
        String longText = "word ".repeat(200);   // ~200 tokens; the encoder takes 128
        JsonNode e = error(http.post("/v1/embeddings", "{\"input\": [\"short\", \"" + longText + "\"]}"), 400);
        assertEquals("context_length_exceeded", e.get("code").asText());
        assertEquals("input", e.get("param").asText());
        assertTrue(e.get("message").asText().contains("128"), e.toString());
        // The generation context here is 48 positions.
        String prompt = "the a to and of ".repeat(20);
        e = error(http.post("/v1/completions", "{\"prompt\": \"" + prompt + "\"}"), 400);
        assertEquals("context_length_exceeded", e.get("code").asText());
        assertEquals("prompt", e.get("param").asText());
        e = error(http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"" + prompt + "\"}]}"), 400);
        assertEquals("messages", e.get("param").asText());
        // Within the context both work.
        assertEquals(200, http.post("/v1/completions", "{\"prompt\": \"the a\", \"max_tokens\": 3, \"temperature\": 0}").status());
    }

    @Test
    void anOversizedBodyIs413AndTheServerCarriesOn() throws Exception {
        TestHttp http = new TestHttp(small);
        String big = "{\"input\": \"" + "x".repeat(4096) + "\"}";
        assertEquals("request_too_large", error(http.post("/v1/embeddings", big), 413).get("code").asText());
        // Without a Content-Length (chunked), the limit holds as the bytes arrive.
        try (RawConnection c = new RawConnection(small.port())) {
            c.send("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
            String chunk = "x".repeat(800);
            for (int i = 0; i < 4; i++) c.send(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
            c.send("0\r\n\r\n");
            assertTrue(c.readUntil("}}").startsWith("HTTP/1.1 413"), c.received());
        }
        assertEquals(200, http.post("/v1/embeddings", "{\"input\": \"small enough\"}").status());
    }

    @Test
    void anApiKeyGuardsEveryRouteButHealth() {
        TestHttp none = new TestHttp(keyed), wrong = none.withKey("sk-wrong"), right = none.withKey(KEY);
        for (TestHttp client : List.of(none, wrong)) {
            assertEquals("invalid_api_key", error(client.get("/v1/models"), 401).get("code").asText());
            error(client.get("/metrics"), 401);
            error(client.post("/v1/embeddings", "{\"input\": \"a\"}"), 401);
            error(client.post("/v1/chat/completions", "{\"messages\": []}"), 401);
        }
        assertEquals(200, none.get("/health").status());
        assertEquals(200, right.get("/v1/models").status());
        assertEquals(200, right.post("/v1/embeddings", "{\"input\": \"a\"}").status());
    }

    @Test
    void jettysOwnErrorsAreOpenAiJsonToo() throws Exception {
        try (RawConnection c = new RawConnection(open.port())) {
            c.send("THIS IS NOT HTTP\r\n\r\n");
            String reply = c.readUntil("}}");
            assertTrue(reply.startsWith("HTTP/1.1 400"), reply);
            assertTrue(reply.contains("\"error\":{\"message\""), reply);
        }
    }

    @Test
    void modelsHealthAndMetricsAnswer() {
        TestHttp http = new TestHttp(open);
        JsonNode list = http.get("/v1/models").json();
        assertEquals("list", list.get("object").asText());
        assertEquals(List.of(TestModels.ENCODER, TestModels.TINY), list.get("data").findValuesAsText("id"));
        assertEquals("ok", http.get("/health").json().get("status").asText());
        http.post("/v1/embeddings", "{\"input\": [\"one\", \"two\"]}");
        http.post("/v1/completions", "{\"prompt\": \"the\", \"max_tokens\": 4, \"temperature\": 0}");
        TestHttp.Reply m = http.get("/metrics");
        assertTrue(m.contentType().startsWith("text/plain"), m.contentType());
        for (String family : List.of("offload_http_requests_total{route=\"/v1/embeddings\",status=\"200\"}",
                "offload_http_request_duration_seconds_bucket{route=\"/v1/completions\",le=\"+Inf\"}",
                "offload_queue_depth{model=\"" + TestModels.ENCODER + "\"} 0", "offload_embedding_batch_sentences_bucket",
                "offload_embedding_batch_requests_count", "offload_tokens_total{model=\"" + TestModels.TINY + "\",kind=\"generated\"}",
                "offload_generations_total{model=\"" + TestModels.TINY + "\",finish=", "offload_generation_tokens_per_second{model=\"" + TestModels.TINY + "\"}")) {
            assertTrue(m.body().contains(family), "no " + family + " in\n" + m.body());
        }
        assertNull(m.retryAfter());
    }
}
