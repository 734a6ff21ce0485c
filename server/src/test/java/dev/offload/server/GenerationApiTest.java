package dev.offload.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.decoder.SamplingParams;
import dev.offload.session.GenerationSession;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The generation routes' details on the wire: SSE framing, sampling fields mapped to the session's, stop strings, usage. */
class GenerationApiTest {
    static OffloadServer server;
    static TestHttp http;
    static GenerationSession tiny;
    static int ctx;

    @BeforeAll
    static void start() throws Exception {
        server = OffloadServer.start(TestModels.options(), new ServedModels(List.of(TestModels.servedTiny())));
        http = new TestHttp(server);
        tiny = TestModels.tiny();
        ctx = tiny.model().config().contextLength();
    }

    @AfterAll
    static void stop() { server.close(); }

    @Test
    void aStreamIsServerSentEventsOfChunksEndingWithDone() throws Exception {
        try (RawConnection c = new RawConnection(server.port())) {
            c.post("/v1/chat/completions", "{\"stream\": true, \"temperature\": 0, \"max_tokens\": 12, \"stream_options\": {\"include_usage\": true},"
                    + " \"messages\": [{\"role\": \"user\", \"content\": \"the\"}]}");
            String all = c.readUntil("data: [DONE]\n\n");
            assertTrue(all.contains("Content-Type: text/event-stream"), all);
            String body = all.substring(all.indexOf("\r\n\r\n") + 4);
            List<JsonNode> chunks = new ArrayList<>();
            for (String event : dechunk(body).split("\n\n")) {
                assertTrue(event.startsWith("data: "), "not an SSE data line: " + event);
                if (!event.equals("data: [DONE]")) chunks.add(RequestFields.JSON.readTree(event.substring(6)));
            }
            assertEquals("assistant", chunks.getFirst().at("/choices/0/delta/role").asText());
            for (JsonNode ch : chunks) {
                assertEquals("chat.completion.chunk", ch.get("object").asText());
                assertEquals(chunks.getFirst().get("id").asText(), ch.get("id").asText());
            }
            String prompt = tiny.chatPrompt(List.of(new dev.offload.decoder.ChatTemplate.Message("user", "the")));
            GenerationSession.Result r = tiny.generate(prompt, !tiny.startsWithBos(prompt), 12, ctx, SamplingParams.greedy(), null);
            StringBuilder text = new StringBuilder();
            for (JsonNode ch : chunks.subList(1, chunks.size() - 2)) {
                assertTrue(ch.at("/choices/0/finish_reason").isNull());
                text.append(ch.at("/choices/0/delta/content").asText());
            }
            assertEquals(r.text(), text.toString());
            JsonNode last = chunks.get(chunks.size() - 2), usage = chunks.getLast();
            assertEquals(r.stop() == GenerationSession.Stop.END_OF_SEQUENCE ? "stop" : "length", last.at("/choices/0/finish_reason").asText());
            assertTrue(last.at("/choices/0/delta").isEmpty(), "the finishing chunk carries text: " + last);
            assertEquals(0, usage.get("choices").size(), "the usage chunk has no choices");
            assertEquals(r.generatedTokens(), usage.at("/usage/completion_tokens").asInt());
            assertEquals(r.promptTokens(), usage.at("/usage/prompt_tokens").asInt());
        }
    }

    @Test
    void aSeedAndTheSamplingFieldsGiveTheSessionsSampledText() {
        SamplingParams p = new SamplingParams(0.9f, 20, 0.9f, 0.02f, 1.1f, 64, 1234);
        String want = tiny.generate("of the", true, 20, ctx, p, null).text();
        String body = "{\"prompt\": \"of the\", \"max_tokens\": 20, \"temperature\": 0.9, \"top_k\": 20, \"top_p\": 0.9, \"min_p\": 0.02,"
                + " \"repeat_penalty\": 1.1, \"seed\": %d}";
        assertEquals(want, http.post("/v1/completions", body.formatted(1234)).json().at("/choices/0/text").asText());
        assertEquals(want, http.post("/v1/completions", body.formatted(1234)).json().at("/choices/0/text").asText(), "the same seed twice");
        assertNotEquals(want, http.post("/v1/completions", body.formatted(99)).json().at("/choices/0/text").asText(), "another seed");
    }

    @Test
    void aStopStringEndsTheTextBeforeIt() {
        GenerationSession.Result r = tiny.generate("the a to", true, 40, ctx, SamplingParams.greedy(), null);
        assertTrue(r.text().length() > 6, "the tiny model says too little to cut: '" + r.text() + "'");
        String stop = r.text().substring(4, 6);
        String want = r.text().substring(0, r.text().indexOf(stop));
        for (boolean stream : new boolean[] {false, true}) {
            String req = "{\"prompt\": \"the a to\", \"max_tokens\": 40, \"temperature\": 0, \"stop\": [\"zzz\", " + RequestFields.JSON.valueToTree(stop)
                    + "], \"stream\": " + stream + "}";
            TestHttp.Reply reply = http.post("/v1/completions", req);
            assertEquals(200, reply.status(), reply.body());
            String text = stream ? streamedText(reply.body()) : reply.json().at("/choices/0/text").asText();
            assertEquals(want, text, "stream " + stream);
            if (!stream) assertEquals("stop", reply.json().at("/choices/0/finish_reason").asText());
        }
    }

    @Test
    void maxTokensAndUsageAreTheSessions() {
        GenerationSession.Result r = tiny.generate("the", true, 5, ctx, SamplingParams.greedy(), null);
        JsonNode a = http.post("/v1/completions", "{\"prompt\": \"the\", \"max_tokens\": 5, \"temperature\": 0}").json();
        assertEquals(r.text(), a.at("/choices/0/text").asText());
        assertEquals(r.promptTokens(), a.at("/usage/prompt_tokens").asInt());
        assertEquals(r.generatedTokens(), a.at("/usage/completion_tokens").asInt());
        assertEquals("text_completion", a.get("object").asText());
        assertTrue(a.get("id").asText().startsWith("cmpl-"));
        // Completions default to 16 tokens, as OpenAI's do.
        GenerationSession.Result sixteen = tiny.generate("the", true, 16, ctx, SamplingParams.greedy(), null);
        assertEquals(sixteen.text(), http.post("/v1/completions", "{\"prompt\": \"the\", \"temperature\": 0}").json().at("/choices/0/text").asText());
    }

    /** The concatenated texts of a streamed completion's chunks (the JDK client has already removed the chunked framing). */
    private static String streamedText(String body) {
        StringBuilder text = new StringBuilder();
        for (String event : body.split("\n\n")) {
            if (event.isBlank() || event.equals("data: [DONE]")) continue;
            try {
                text.append(RequestFields.JSON.readTree(event.substring(6)).at("/choices/0/text").asText());
            } catch (java.io.IOException e) {
                throw new AssertionError(event, e);
            }
        }
        return text.toString();
    }

    /** Removes HTTP/1.1 chunked framing (chunk sizes count bytes, so it works on the UTF-8 bytes). */
    private static String dechunk(String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int at = 0;
        while (at < b.length) {
            int eol = at;
            while (eol + 1 < b.length && !(b[eol] == '\r' && b[eol + 1] == '\n')) eol++;
            String size = new String(b, at, eol - at, StandardCharsets.US_ASCII).trim();
            // Read up to [DONE]: the closing chunk may not have arrived yet.
            if (eol + 1 >= b.length || size.isEmpty() || size.equals("0")) break;
            int n = Integer.parseInt(size, 16);
            out.write(b, eol + 2, n);
            at = eol + 2 + n + 2;
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
