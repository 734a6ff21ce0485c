package dev.offload.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import dev.offload.decoder.ChatTemplate;
import dev.offload.decoder.SamplingParams;
import dev.offload.session.GenerationSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's LangChain4j snippet (its OpenAI module pointed at {@code ./offload serve}) runs as written and gets the
 * sessions' own answers; the README shows exactly this code. The chat model is the tests' tiny GGUF under the id the
 * README's example file would have.
 */
class ReadmeOpenAiClientsTest {
    static final String CHAT_ID = "qwen2.5-0.5b-instruct-q8_0";

    @Test
    void langChain4jsOpenAiModuleGetsTheSessionsAnswers() throws Exception {
        GenerationSession tiny = TestModels.tiny();
        try (OffloadServer server = OffloadServer.start(TestModels.options(), new ServedModels(List.of(TestModels.servedEncoder(),
                new ServedModel.Decoder(CHAT_ID, CHAT_ID + ".gguf", tiny))))) {
            String baseUrl = server.url() + "/v1";
            // README:begin
            OpenAiEmbeddingModel embeddings = OpenAiEmbeddingModel.builder()
                    .baseUrl(baseUrl).apiKey("unused").modelName("all-minilm-l6-v2-q").build();
            float[] vector = embeddings.embed("A man is playing a guitar.").content().vector();

            OpenAiChatModel chat = OpenAiChatModel.builder()
                    .baseUrl(baseUrl).apiKey("unused").modelName("qwen2.5-0.5b-instruct-q8_0")
                    .temperature(0.0).maxTokens(24).build();
            String answer = chat.chat("the of and");
            // README:end
            assertArrayEquals(OpenAiSdkTest.bits(TestModels.encoder().embed(List.of("A man is playing a guitar.")).vector(0)),
                    OpenAiSdkTest.bits(vector));
            String prompt = tiny.chatPrompt(List.of(new ChatTemplate.Message("user", "the of and")));
            String want = tiny.generate(prompt, !tiny.startsWithBos(prompt), 24, tiny.model().config().contextLength(), SamplingParams.greedy(), null).text();
            assertTrue(!want.isEmpty());
            assertEquals(want, answer);
        }
    }

    @Test
    void theReadmeShowsThisCode() throws Exception {
        List<String> source = Files.readAllLines(Path.of("src/test/java/dev/offload/server/ReadmeOpenAiClientsTest.java"));
        int from = source.indexOf("            // README:begin") + 1, to = source.indexOf("            // README:end");
        StringBuilder code = new StringBuilder();
        for (String line : source.subList(from, to)) code.append(line.isEmpty() ? "" : line.substring(12)).append('\n');
        String readme = Files.readString(Path.of("../README.md"));
        assertTrue(readme.contains(code), "README.md should show the snippet exactly as tested here:\n" + code);
    }
}
