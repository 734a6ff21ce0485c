package dev.offload.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.cli.Main;
import dev.offload.decoder.ChatTemplate;
import dev.offload.decoder.SamplingParams;
import dev.offload.session.GenerationSession;
import dev.offload.tensor.Npy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official {@code openai} npm package against the server: its embeddings are, bit for bit, what
 * {@code ./offload run --output} writes for the same texts (as floats and as the SDK's default base64), and its chat
 * and text completions, whole and streamed, are the text {@code GenerationSession.generate} gives at temperature 0.
 */
class OpenAiSdkTest {
    static final String KEY = "sk-offload-sdk";
    static final List<String> TEXTS = List.of(
            "A man is playing a guitar on stage.",
            "Someone performs music with a guitar in front of an audience.",
            "The stock market fell sharply this morning.",
            "Rain.",
            "Photosynthesis converts light energy into chemical energy stored in glucose, which plants use to grow.");
    static final List<ChatTemplate.Message> MESSAGES = List.of(new ChatTemplate.Message("system", "a to"), new ChatTemplate.Message("user", "the of and"));
    static final String PROMPT = "the a to";
    static final int MAX_TOKENS = 24;

    @TempDir Path dir;

    @Test
    void theSdksAnswersAreWhatTheCliAndTheSessionsGive() throws Exception {
        Path pkg = OpenAiNodePackage.require();
        float[][] cli = cliEmbeddings();
        GenerationSession tiny = TestModels.tiny();
        int ctx = tiny.model().config().contextLength();
        String chatPrompt = tiny.chatPrompt(MESSAGES);
        GenerationSession.Result chat = tiny.generate(chatPrompt, !tiny.startsWithBos(chatPrompt), MAX_TOKENS, ctx, SamplingParams.greedy(), null);
        GenerationSession.Result text = tiny.generate(PROMPT, true, MAX_TOKENS, ctx, SamplingParams.greedy(), null);
        assertFalse(chat.text().isEmpty() || text.text().isEmpty(), "the tiny model says nothing: nothing to compare");

        JsonNode out;
        try (OffloadServer server = OffloadServer.start(TestModels.options().withApiKey(KEY),
                new ServedModels(List.of(TestModels.servedEncoder(), TestModels.servedTiny())))) {
            ObjectNode job = RequestFields.JSON.createObjectNode();
            job.put("baseURL", server.url() + "/v1").put("apiKey", KEY).put("encoder", TestModels.ENCODER).put("decoder", TestModels.TINY)
                    .put("prompt", PROMPT).put("maxTokens", MAX_TOKENS);
            TEXTS.forEach(job.putArray("texts")::add);
            MESSAGES.forEach(m -> job.withArray("messages").addObject().put("role", m.role()).put("content", m.content()));
            Path jobFile = Files.writeString(dir.resolve("job.json"), job.toString());
            out = OpenAiNodePackage.node(OpenAiNodePackage.script("openai-client.cjs", dir), List.of(pkg.toString(), jobFile.toString()), 120);
        }

        for (int i = 0; i < TEXTS.size(); i++) {
            assertEquals(i, out.get("floatIndexes").get(i).asInt());
            assertArrayEquals(bits(cli[i]), ints(out.get("floatBits").get(i)), "text " + i + " (encoding_format float)");
            assertArrayEquals(bits(cli[i]), ints(out.get("defaultBits").get(i)), "text " + i + " (the SDK's default, base64)");
        }
        assertArrayEquals(bits(cli[0]), ints(out.get("singleBits")), "a lone string input");
        long tokens = TestModels.encoder().tokenize(TEXTS).tokens();
        assertEquals(tokens, out.get("usage").get("prompt_tokens").asLong());
        assertEquals(tokens, out.get("usage").get("total_tokens").asLong());

        assertEquals(chat.text(), out.get("chat").get("text").asText());
        assertEquals("assistant", out.get("chat").get("role").asText());
        assertEquals(finish(chat), out.get("chat").get("finish").asText());
        assertUsage(chat, out.get("chat").get("usage"));
        assertEquals(chat.text(), out.get("chatStream").get("text").asText(), "streamed chat");
        assertEquals(finish(chat), out.get("chatStream").get("finish").asText());
        assertUsage(chat, out.get("chatStream").get("usage"));
        assertTrue(out.get("chatStream").get("chunks").asInt() > 2, "the chat was not streamed in pieces");

        assertEquals(text.text(), out.get("completion").get("text").asText());
        assertEquals(finish(text), out.get("completion").get("finish").asText());
        assertUsage(text, out.get("completion").get("usage"));
        assertEquals(text.text(), out.get("completionStream").get("text").asText(), "streamed completion");
        assertEquals(finish(text), out.get("completionStream").get("finish").asText());

        assertEquals(404, out.get("notFound").get("status").asInt());
        assertEquals("model_not_found", out.get("notFound").get("code").asText());
        assertEquals("NotFoundError", out.get("notFound").get("name").asText());
        assertEquals(401, out.get("unauthorized").get("status").asInt());
        assertEquals("AuthenticationError", out.get("unauthorized").get("name").asText());
        assertEquals(List.of(TestModels.ENCODER, TestModels.TINY), RequestFields.JSON.convertValue(out.get("models"), List.class));
    }

    /** What {@code ./offload run --input F --output E.npy} writes, run in-process on the same device. */
    private float[][] cliEmbeddings() throws Exception {
        Path input = Files.write(dir.resolve("texts.txt"), TEXTS, StandardCharsets.UTF_8), npy = dir.resolve("e.npy");
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute("run", "--model", TestModels.ENCODER, "--device", "cl:cpu", "--input", input.toString(),
                "--output", npy.toString(), "--no-profile");
        assertEquals(0, exit, err.toString());
        float[] flat = Npy.read(npy).toFloatArray();
        int d = flat.length / TEXTS.size();
        float[][] rows = new float[TEXTS.size()][];
        for (int i = 0; i < rows.length; i++) rows[i] = java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d);
        return rows;
    }

    private static String finish(GenerationSession.Result r) { return r.stop() == GenerationSession.Stop.END_OF_SEQUENCE ? "stop" : "length"; }

    private static void assertUsage(GenerationSession.Result r, JsonNode usage) {
        assertEquals(r.promptTokens(), usage.get("prompt_tokens").asInt());
        assertEquals(r.generatedTokens(), usage.get("completion_tokens").asInt());
        assertEquals(r.promptTokens() + r.generatedTokens(), usage.get("total_tokens").asInt());
    }

    static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Float.floatToRawIntBits(v[i]);
        return b;
    }

    private static int[] ints(JsonNode array) {
        int[] b = new int[array.size()];
        for (int i = 0; i < b.length; i++) b[i] = (int) array.get(i).asLong();
        return b;
    }
}
