package dev.offload.session;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import dev.offload.decoder.SamplingParams;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's Java example compiles (it is the body below) and runs, and the README shows exactly this code. */
class ReadmeExampleTest {
    @Test
    void theReadmeExampleRunsAsWritten() {
        // README:begin
        try (EmbeddingSession session = EmbeddingSession.open(EmbeddingOptions.defaults()
                .withModel("all-minilm-l6-v2-q")        // or an .onnx file with tokenizer.json beside it
                .withPlacement("cl:cpu"))) {             // java, cl:gpu, cl:0:1, linear=cl:gpu,*=cl:cpu, or auto
            SentenceEmbeddings e = session.embed(List.of("A man is playing a guitar.", "Someone plays the guitar on stage."));
            float[] first = e.vector(0);                 // 384 floats, unit length
            System.out.printf("similarity %.3f%n", e.cosine(0, 1));
        }
        // README:end
    }

    @Test
    void theReadmeGenerationExampleRunsAsWritten(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        var c = dev.offload.decoder.TinyGgufModels.config(dev.offload.decoder.DecoderConfig.Architecture.LLAMA);
        Path model = dev.offload.decoder.TinyGgufModels.write(dir.resolve("model.gguf"), c,
                dev.offload.decoder.TinyGgufModels.randomWeights(c, 1), dev.offload.decoder.TinyGgufModels.Q8_0, false);
        // README-generate:begin
        try (GenerationSession session = GenerationSession.open(model, GenerationOptions.defaults().withPlacement("cl:cpu"))) {
            GenerationSession.Result r = session.generate("The capital of France is", true, 32, 2048,
                    SamplingParams.greedy(), System.out::print);                 // text streams as it is made
            System.out.printf("%n%d tokens, %.1f tokens/s, stop: %s%n", r.generatedTokens(), r.generatedTokensPerSecond(), r.stop());
        }
        // README-generate:end
    }

    @Test
    void theReadmeShowsThisCode() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        for (String marker : List.of("README", "README-generate")) {
            String code = block(marker);
            assertTrue(readme.contains(code), "README.md should show the example exactly as tested here:\n" + code);
        }
    }

    static String block(String marker) throws Exception {
        List<String> source = Files.readAllLines(Path.of("src/test/java/dev/offload/session/ReadmeExampleTest.java"));
        int from = source.indexOf("        // " + marker + ":begin") + 1, to = source.indexOf("        // " + marker + ":end");
        StringBuilder code = new StringBuilder();
        for (String line : source.subList(from, to)) code.append(line.substring(8)).append('\n');
        return code.toString();
    }
}
