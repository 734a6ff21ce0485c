package dev.offload.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.model.gguf.GgufFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Known answers on the real vocabularies of llama.cpp's vocabulary-only GGUF files: offload's ids must equal the
 * ids in llama.cpp's own test files ({@code ggml-vocab-NAME.gguf.inp} / {@code .out}, tokenized without BOS and
 * with special tokens as text, as llama.cpp's test-tokenizer-0 runs), text must come back from its ids, and the
 * special ids must be the ones llama.cpp reads. Skipped, saying how to get the files, where they are absent.
 */
class LlamaCppVocabularyTest {
    private static final Map<String, TextTokenizer> LOADED = new ConcurrentHashMap<>();

    static Path vocab(String name) {
        Path dir = LlamaCppVocabs.modelsDir().orElse(null);
        assumeTrue(dir != null, LlamaCppVocabs.HOW_TO_GET);
        Path f = dir.resolve("ggml-vocab-" + name + ".gguf");
        assumeTrue(Files.isRegularFile(f), f + " is missing");
        return f;
    }

    static TextTokenizer tokenizer(String name) {
        Path f = vocab(name);
        return LOADED.computeIfAbsent(name, n -> {
            try (GgufFile g = GgufFile.open(f)) {
                return TextTokenizer.fromGguf(g.metadata());
            }
        });
    }

    record Case(String text, int[] ids) {}

    /** llama.cpp's test cases: inputs separated by a marker line, one line of ids per input. */
    static List<Case> cases(String name) throws IOException {
        Path f = vocab(name);
        String inp = Files.readString(Path.of(f + ".inp"));
        List<String> out = Files.readAllLines(Path.of(f + ".out"));
        String sep = "\n__ggml_vocab_test__\n";
        List<String> texts = new ArrayList<>();
        for (int pos = 0; pos < inp.length(); ) {
            int next = inp.indexOf(sep, pos);
            texts.add(next < 0 ? inp.substring(pos) : inp.substring(pos, next));
            if (next < 0) break;
            pos = next + sep.length();
        }
        assertEquals(texts.size(), out.size(), "inputs and outputs of " + f);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String line = out.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(texts.get(i), ids));
        }
        return cases;
    }

    static List<String> variedStrings() throws IOException {
        try (InputStream in = LlamaCppVocabularyTest.class.getResourceAsStream("tokenizer-strings.json")) {
            return List.of(new ObjectMapper().readValue(in, String[].class));
        }
    }

    static String[] supported() { return LlamaCppVocabs.SUPPORTED; }

    @ParameterizedTest
    @MethodSource("supported")
    void producesLlamaCppsIdsForItsOwnTestInputs(String name) throws IOException {
        TextTokenizer t = tokenizer(name);
        List<Case> cases = cases(name);
        assertTrue(cases.size() >= 40, "llama.cpp ships ~46 cases per vocabulary");
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            int[] got = t.encode(c.text(), false, false);
            if (!Arrays.equals(c.ids(), got)) wrong.add("'" + c.text() + "': llama.cpp " + Arrays.toString(c.ids()) + ", offload " + Arrays.toString(got));
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + cases.size() + " differ:\n" + String.join("\n", wrong));
    }

    /** All but Phi-3, whose special tokens swallow the whitespace after them (so that text cannot come back). */
    static String[] lossless() {
        return java.util.Arrays.stream(LlamaCppVocabs.SUPPORTED).filter(n -> !n.equals("phi-3")).toArray(String[]::new);
    }

    @ParameterizedTest
    @MethodSource("lossless")
    void decodesEveryEncodedTextBackToItself(String name) throws IOException {
        TextTokenizer t = tokenizer(name);
        List<String> texts = new ArrayList<>(variedStrings());
        for (Case c : cases(name)) texts.add(c.text());
        String bosText = t.addsBos() ? t.token(t.bos()) : "";
        for (String s : texts) {
            assertEquals(s, t.decode(t.encode(s, false, false)), "plain: " + s);
            assertEquals(bosText + s, t.decode(t.encode(s, true)), "with BOS, special tokens parsed: " + s);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "llama-bpe", "qwen2", "gpt-2"})
    void streamsCharactersWholeWhenTheyAreSplitAcrossTokens(String name) {
        TextTokenizer t = tokenizer(name);
        String text = "🦙 Grüße 😶‍🌫️ 你好，世界 ภาษาไทย";
        int[] ids = t.encode(text, false, false);
        TextTokenizer.StreamingDecoder d = t.streamingDecoder(true);
        StringBuilder out = new StringBuilder();
        boolean heldBack = false;
        for (int id : ids) {
            String part = d.push(id);
            assertFalse(part.contains("\uFFFD"), "a push must never cut a character: " + part);
            heldBack |= part.isEmpty();
            out.append(part);
        }
        out.append(d.finish());
        // Streaming renders every piece as it is (generation continues a text, so SPM's prefix space stays).
        String prefix = name.equals("llama-spm") ? " " : "";
        assertEquals(prefix + text, out.toString());
        assertEquals(text, t.decode(ids));
        if (name.equals("llama-spm")) assertTrue(heldBack, "the llama emoji is four byte tokens in Llama 2's vocabulary");
    }

    @Test
    void readsSpecialIdsAndBosAsLlamaCppDoes() {
        TextTokenizer spm = tokenizer("llama-spm");
        assertEquals(List.of(1, 2, true, 32000), List.of(spm.bos(), spm.eos(), spm.addsBos(), spm.vocabularySize()));
        assertArrayEquals(new int[] {1, 15043, 3186}, spm.encode("Hello world", true));
        assertArrayEquals(new int[] {1, 15043, 2, 1}, spm.encode("Hello</s><s>", true), "control tokens matched whole");
        TextTokenizer llama3 = tokenizer("llama-bpe");
        assertEquals(List.of(128000, 128001, 128009, true), List.of(llama3.bos(), llama3.eos(), llama3.eot(), llama3.addsBos()));
        assertTrue(llama3.isEndOfGeneration(128009) && llama3.isEndOfGeneration(128001) && !llama3.isEndOfGeneration(128000));
        assertArrayEquals(new int[] {128000, 9906, 128009}, llama3.encode("Hello<|eot_id|>", true));
        assertEquals("<|eot_id|>", llama3.piece(128009));
        TextTokenizer qwen = tokenizer("qwen2");
        assertEquals(List.of(151643, 151645, false), List.of(qwen.eos(), qwen.eot(), qwen.addsBos()));
        assertTrue(qwen.isEndOfGeneration(151645));
        TextTokenizer gpt2 = tokenizer("gpt-2");
        assertEquals(List.of(50256, 50256, false), List.of(gpt2.eos(), gpt2.eot(), gpt2.addsBos()));
    }
}
