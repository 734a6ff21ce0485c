package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.gguf.GgufWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code offload tokenize} on vocabulary-only GGUF files the test writes, and one-line errors for bad input. */
class TokenizeCommandTest {
    @TempDir Path dir;

    static CliRun run(String... args) { return CliRun.of(args); }

    /** An SPM vocabulary with no tensors: <unk> <s> </s>, byte tokens 3..258, then a few pieces. */
    Path vocabOnly() throws IOException {
        String[] pieces = {"▁", "h", "i", "▁h", "▁hi"};
        String[] tokens = new String[259 + pieces.length];
        int[] types = new int[tokens.length];
        float[] scores = new float[tokens.length];
        tokens[0] = "<unk>"; tokens[1] = "<s>"; tokens[2] = "</s>";
        types[0] = 2; types[1] = 3; types[2] = 3;
        for (int b = 0; b < 256; b++) { tokens[3 + b] = String.format("<0x%02X>", b); types[3 + b] = 6; }
        for (int i = 0; i < pieces.length; i++) { tokens[259 + i] = pieces[i]; types[259 + i] = 1; scores[259 + i] = -i; }
        return new GgufWriter().str("general.architecture", "llama").str("tokenizer.ggml.model", "llama")
                .strings("tokenizer.ggml.tokens", tokens).floats("tokenizer.ggml.scores", scores)
                .ints("tokenizer.ggml.token_type", types).write(dir.resolve("vocab.gguf"));
    }

    @Test
    void printsIdsAndPiecesLikeLlamaTokenize() throws IOException {
        CliRun r = run("tokenize", "--model", vocabOnly().toString(), "hi é</s>");
        assertEquals(0, r.exit(), r.err());
        // ▁hi, then "▁é": ▁ and é's two bytes (each alone is not UTF-8), then the control token.
        assertEquals(String.join("\n",
                "     1 -> '<s>'",
                "   263 -> ' hi'",
                "   259 -> ' '",
                "   198 -> '<c3>' (utf-8 decode failure)",
                "   172 -> '<a9>' (utf-8 decode failure)",
                "     2 -> '</s>'") + "\n", r.out().replace(System.lineSeparator(), "\n"));
    }

    @Test
    void printsAnIdListWithoutBosFromAFile() throws IOException {
        Path text = Files.writeString(dir.resolve("prompt.txt"), "hi hi", StandardCharsets.UTF_8);
        CliRun r = run("tokenize", "--model", vocabOnly().toString(), "--file", text.toString(), "--ids-only", "--no-bos");
        assertEquals(0, r.exit(), r.err());
        assertEquals("[263, 263]", r.out().strip());
    }

    void assertRejected(String expected, String... args) {
        CliRun r = run(args);
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertEquals("", r.out());
    }

    @Test
    void badFilesAndArgumentsAreOneLineAndExitTwo() throws IOException {
        Path vocab = vocabOnly();
        Path missing = dir.resolve("missing.gguf");
        assertRejected("offload: " + missing + ": no such file", "tokenize", "--model", missing.toString(), "x");
        Path notGguf = Files.writeString(dir.resolve("text.gguf"), "just some text, not a model file");
        assertRejected(notGguf + ": not a GGUF file", "tokenize", "--model", notGguf.toString(), "x");
        Path noTokenizer = new GgufWriter().str("general.architecture", "llama").write(dir.resolve("bare.gguf"));
        assertRejected(noTokenizer + ": required metadata key 'tokenizer.ggml.model' is missing",
                "tokenize", "--model", noTokenizer.toString(), "x");
        Path bert = new GgufWriter().str("tokenizer.ggml.model", "bert").write(dir.resolve("bert.gguf"));
        assertRejected("tokenizer.ggml.model 'bert' is not supported", "tokenize", "--model", bert.toString(), "x");
        assertRejected("either as TEXT or with --file", "tokenize", "--model", vocab.toString());
        assertRejected("either as TEXT or with --file", "tokenize", "--model", vocab.toString(), "x", "--file", vocab.toString());
        assertRejected(dir.resolve("nope.txt") + ": no such file", "tokenize", "--model", vocab.toString(), "--file", dir.resolve("nope.txt").toString());
        assertRejected(dir + ": is a directory, not a file", "tokenize", "--model", dir.toString(), "x");
    }
}
