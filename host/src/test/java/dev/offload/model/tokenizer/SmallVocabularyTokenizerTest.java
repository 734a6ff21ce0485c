package dev.offload.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.gguf.GgufFile;
import dev.offload.model.gguf.GgufFormatException;
import dev.offload.model.gguf.GgufWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both tokenizer kinds on small vocabularies the test writes into GGUF files, with answers worked out by hand
 * (these run everywhere; the llama.cpp tier checks the real vocabularies).
 */
class SmallVocabularyTokenizerTest {
    @TempDir Path dir;

    TextTokenizer load(GgufWriter w) throws IOException {
        try (GgufFile g = GgufFile.open(w.write(dir.resolve("v" + System.nanoTime() + ".gguf")))) {
            return TextTokenizer.fromGguf(g.metadata());
        }
    }

    /** An SPM vocabulary: <unk> <s> </s>, 256 byte tokens (3..258), then pieces with scores. */
    GgufWriter spm(UnaryOperator<GgufWriter> more) {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Integer> types = new ArrayList<>(List.of(2, 3, 3));
        for (int b = 0; b < 256; b++) { tokens.add(String.format("<0x%02X>", b)); types.add(6); }
        String[] pieces = {"▁", "h", "e", "l", "o", "▁h", "ll", "▁he", "▁hell", "▁hello", "lo", "w", "▁w", "<|x|>"};
        float[] scoreOfPiece = {-1, -2, -2, -2, -2, -3, -4, -5, -6, -7, -1.5f, -2, -3, 0};
        for (String p : pieces) { tokens.add(p); types.add(p.equals("<|x|>") ? 4 : 1); }
        float[] scores = new float[tokens.size()];
        for (int i = 0; i < pieces.length; i++) scores[259 + i] = scoreOfPiece[i];
        return more.apply(new GgufWriter().str("tokenizer.ggml.model", "llama")
                .strings("tokenizer.ggml.tokens", tokens.toArray(String[]::new)).floats("tokenizer.ggml.scores", scores)
                .ints("tokenizer.ggml.token_type", types.stream().mapToInt(Integer::intValue).toArray())
                .u32("tokenizer.ggml.bos_token_id", 1).u32("tokenizer.ggml.eos_token_id", 2));
    }

    static int id(TextTokenizer t, String token) {
        for (int i = 0; i < t.vocabularySize(); i++) if (t.token(i).equals(token)) return i;
        throw new AssertionError(token);
    }

    @Test
    void sentencePieceMergesByScoreAndFallsBackToBytes() throws IOException {
        TextTokenizer t = load(spm(w -> w));
        assertTrue(t instanceof SentencePieceTokenizer);
        // "▁hell": ▁h (-3), then ll (-4), then ▁he (-5), then ▁hell (-6).
        assertArrayEquals(new int[] {1, id(t, "▁hell")}, t.encode("hell", true));
        // "▁hello": "lo" (score -1.5) is merged first and takes the second 'l', so "▁hello" never forms.
        assertArrayEquals(new int[] {id(t, "▁he"), id(t, "l"), id(t, "lo")}, t.encode("hello", false));
        // 'é' is not in the vocabulary: its two UTF-8 bytes as byte tokens.
        assertArrayEquals(new int[] {id(t, "▁h"), 3 + 0xC3, 3 + 0xA9}, t.encode("hé", false));
        assertEquals("hé", t.decode(t.encode("hé", false)));
        assertEquals("<s>hé", t.decode(t.encode("hé", true)));
        // Control and user-defined tokens are matched whole; text after them gets the space prefix again.
        assertArrayEquals(new int[] {id(t, "▁h"), 2, id(t, "▁he"), id(t, "<|x|>"), id(t, "▁w")}, t.encode("h</s>he<|x|>w", false));
        assertArrayEquals(new int[] {id(t, "▁h"), id(t, "<|x|>"), id(t, "▁w")}, t.encode("h<|x|>w", false, false),
                "user-defined tokens are matched even without parsing control tokens");
        assertEquals("h</s>he<|x|>w", t.decode(t.encode("h</s>he<|x|>w", false)));
        assertEquals(List.of(1, 2, true), List.of(t.bos(), t.eos(), t.isEndOfGeneration(2)));
    }

    @Test
    void sentencePieceObeysBosAndSpacePrefixFlags() throws IOException {
        TextTokenizer t = load(spm(w -> w.bool("tokenizer.ggml.add_bos_token", false).bool("tokenizer.ggml.add_space_prefix", false)));
        assertArrayEquals(new int[] {id(t, "h"), id(t, "e")}, t.encode("he", true));
        assertEquals("he", t.decode(t.encode("he", true)));
    }

    /** A byte-level BPE vocabulary: the 256 GPT-2 byte characters, a few merges, one control token. */
    GgufWriter bpe(String pre) {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(Gpt2ByteMapping.encode(new byte[] {(byte) b}));
        String[] merges = {"l l", "h e", "Ġ w", "he ll", "o r", "Ġw or", "hell o", "Ġwor ld", "l d"};
        for (String m : merges) tokens.add(m.replace(" ", ""));
        tokens.add("<|end|>");
        int[] types = new int[tokens.size()];
        java.util.Arrays.fill(types, 1);
        types[types.length - 1] = 3;
        GgufWriter w = new GgufWriter().str("tokenizer.ggml.model", "gpt2")
                .strings("tokenizer.ggml.tokens", tokens.toArray(String[]::new)).ints("tokenizer.ggml.token_type", types)
                .strings("tokenizer.ggml.merges", merges).u32("tokenizer.ggml.eos_token_id", tokens.size() - 1);
        return pre == null ? w : w.str("tokenizer.ggml.pre", pre);
    }

    @Test
    void byteLevelBpeMergesByRank() throws IOException {
        TextTokenizer t = load(bpe("gpt-2"));
        assertTrue(t instanceof ByteLevelBpeTokenizer);
        int[] ids = t.encode("hello world<|end|>", true);
        // " world": Ġw (rank 2), or (4), Ġwor (5), ld (8), then Ġworld (7) once both halves exist.
        assertEquals(List.of("hello", "Ġworld", "<|end|>"), java.util.Arrays.stream(ids).mapToObj(t::token).toList());
        // "world": without the space no "Ġw"; or (4) and ld (8) are all that apply.
        assertEquals(List.of("w", "or", "ld"), java.util.Arrays.stream(t.encode("world", false)).mapToObj(t::token).toList());
        assertEquals("hello world<|end|>", t.decode(ids));
        assertTrue(t.isEndOfGeneration(ids[ids.length - 1]));
        // Bytes of any UTF-8 text map to single-byte tokens when no merge applies.
        String text = "Köln 🦙\t\n";
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, t.encode(text, false).length);
        assertEquals(text, t.decode(t.encode(text, false)));
    }

    @Test
    void refusesUnknownModelsAndPreTokenizersNamingThem() throws IOException {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> load(bpe("klingon")));
        assertTrue(e.getMessage().contains("tokenizer.ggml.pre 'klingon' is not a supported pre-tokenizer"), e.getMessage());
        e = assertThrows(GgufFormatException.class, () -> load(new GgufWriter().str("tokenizer.ggml.model", "bert")));
        assertTrue(e.getMessage().contains("tokenizer.ggml.model 'bert' is not supported (supported: llama, gpt2)"), e.getMessage());
        e = assertThrows(GgufFormatException.class, () -> load(new GgufWriter().str("tokenizer.ggml.model", "gpt2")
                .strings("tokenizer.ggml.tokens", "a", "b")));
        assertTrue(e.getMessage().contains("required metadata key 'tokenizer.ggml.merges' is missing"), e.getMessage());
        e = assertThrows(GgufFormatException.class, () -> load(spm(w -> w.u32("tokenizer.ggml.eot_token_id", 99999))));
        assertTrue(e.getMessage().contains("tokenizer.ggml.eot_token_id = 99999 is outside the vocabulary"), e.getMessage());
        e = assertThrows(GgufFormatException.class, () -> load(new GgufWriter().str("tokenizer.ggml.model", "llama")
                .strings("tokenizer.ggml.tokens", "a", "b").floats("tokenizer.ggml.scores", 1f)));
        assertTrue(e.getMessage().contains("tokenizer.ggml.scores has 1 entries for 2 tokens"), e.getMessage());
    }

    @Test
    void utf8StreamHoldsBackIncompleteCharactersOnly() {
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        byte[] llama = "🦙".getBytes(StandardCharsets.UTF_8);
        assertEquals("a", d.push(new byte[] {'a', llama[0]}));
        assertEquals("", d.push(new byte[] {llama[1], llama[2]}));
        assertTrue(d.hasPending());
        assertEquals("🦙b", d.push(new byte[] {llama[3], 'b'}));
        assertEquals("\uFFFDc", d.push(new byte[] {(byte) 0xFF, 'c'}), "a byte that starts nothing is replaced at once");
        assertEquals("", d.push(new byte[] {(byte) 0xE4, (byte) 0xBD}));
        assertEquals("\uFFFD", d.finish(), "an unfinished character at the end");
        assertEquals("", d.finish());
    }
}
