package dev.offload.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.offload.decoder.SeededLlamaModel;
import dev.offload.decoder.SeededVocabulary;
import dev.offload.model.gguf.GgmlType;
import dev.offload.model.gguf.GgufFile;
import dev.offload.model.tokenizer.TextTokenizer;
import dev.offload.peer.NodeLlamaCpp;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decode section's prompt: the same number of tokens on both sides, whatever the vocabulary. */
class DecodeBenchTest {
    @TempDir Path dir;

    static TextTokenizer tokenizer(Path dir, SeededVocabulary v) throws Exception {
        Path f = SeededLlamaModel.cached(dir, new SeededLlamaModel.Spec(SeededLlamaModel.Shape.TINY, GgmlType.Q4_0, 1), v);
        try (GgufFile g = GgufFile.open(f)) {
            return TextTokenizer.fromGguf(g.metadata());
        }
    }

    @Test
    void modelsAreChosenByShapeAndType() {
        assertEquals(java.util.List.of(new SeededLlamaModel.Spec(SeededLlamaModel.Shape.SMALL, SeededLlamaModel.FileType.Q4_K_M, DecodeBench.SEED),
                        new SeededLlamaModel.Spec(SeededLlamaModel.Shape.LLAMA_3_2_1B, SeededLlamaModel.FileType.Q4_K_M, DecodeBench.SEED)),
                DecodeBench.specs(false, java.util.List.of("small-q4_k_m", "1b-q4_k_m")));
        assertEquals(6, DecodeBench.specs(false, java.util.List.of()).size(), "small and 1b in Q8_0, Q4_0 and Q4_K_M");
        assertEquals(2, DecodeBench.specs(true, java.util.List.of()).size(), "--quick: tiny Q8_0 and Q4_0");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> DecodeBench.specs(false, java.util.List.of("small-q5_k")));
    }

    @Test
    void thePromptIsExactly128TokensInTheSyntheticVocabulary() throws Exception {
        TextTokenizer tok = tokenizer(dir, SeededVocabulary.synthetic(1024));
        assertEquals(DecodeBench.PROMPT, tok.encode(DecodeBench.prompt(tok), tok.addsBos()).length);
    }

    @Test
    void thePromptIsExactly128TokensInLlama3s() throws Exception {
        Path vocab = NodeLlamaCpp.vocabulary("llama-bpe").orElse(null);
        assumeTrue(vocab != null, NodeLlamaCpp.HOW_TO_GET);
        TextTokenizer tok = tokenizer(dir, SeededVocabulary.llama3(vocab));
        String prompt = DecodeBench.prompt(tok);
        assertEquals(DecodeBench.PROMPT, tok.encode(prompt, tok.addsBos()).length);
        assertEquals(true, prompt.startsWith("The old lighthouse keeper"));
    }
}
