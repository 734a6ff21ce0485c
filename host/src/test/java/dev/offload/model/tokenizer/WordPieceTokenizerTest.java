package dev.offload.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.ModelCatalog;
import dev.offload.model.UnsupportedModelException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Expected ids were derived by hand: the word pieces from the BERT rules, each looked up in the model's
 * vocab (tokenizer.json "model.vocab"), independent of any runtime.
 */
class WordPieceTokenizerTest {
    static WordPieceTokenizer tok;

    @BeforeAll
    static void load() {
        ModelCatalog m = ModelCatalog.ALL_MINILM_L6_V2_Q;
        tok = WordPieceTokenizer.fromJson(m.tokenizerBytes(), m.tokenizerEntry);
    }

    @Test
    void helloWorldSplitsPunctuationAndAddsClsSep() {
        assertArrayEquals(new long[] {101, 7592, 1010, 2088, 999, 102}, tok.encode("Hello, world!", 128).ids());
        assertEquals(List.of("hello", ",", "world", "!"), tok.tokens("Hello, world!"));
    }

    @Test
    void accentsAreStrippedAndTextLowercasedAsTheFileSays() {
        assertEquals(List.of(7668, 15743, 13746), tok.ids("Café naïve RÉSUMÉ"));
    }

    @Test
    void unknownSuffixesBecomeContinuationPieces() {
        assertEquals(List.of("token", "##ization"), tok.tokens("Tokenization"));
        assertEquals(List.of(19204, 3989), tok.ids("tokenization"));
        assertEquals(List.of(1041, 1027, 11338, 2475), tok.ids("E=mc2"));
    }

    @Test
    void apostrophesAndOtherPunctuationAreTheirOwnWords() {
        assertEquals(List.of(2123, 1005, 1056), tok.ids("don't"));
        assertEquals(List.of("wait", "…", "what", "—", "no"), tok.tokens("wait… what—no"));
    }

    @Test
    void chineseCharactersAreSeparateWords() {
        assertEquals(List.of(1746, 1861), tok.ids("中文"));
    }

    @Test
    void wordsOutsideTheVocabularyAndOverlongWordsAreUnk() {
        assertEquals(List.of(7592, 100, 2088), tok.ids("hello 😀 world"));
        assertEquals(List.of("[UNK]"), tok.tokens("x".repeat(101)));
        assertTrue(!tok.tokens("x".repeat(100)).contains("[UNK]"), "100 chars is still within max_input_chars_per_word");
    }

    @Test
    void controlCharactersAreDroppedAndUnicodeSpacesSplit() {
        assertEquals(List.of(7592, 2088), tok.ids("hello\u0007 \u00a0world\t\n"));
        assertEquals(List.of(), tok.ids(" \u2003\r\n"));
    }

    @Test
    void specialTokensWrittenInTheTextStayWhole() {
        assertEquals(List.of(101, 7592, 103), tok.ids("[CLS] hello [MASK]"));
    }

    @Test
    void truncationKeepsClsAndSep() {
        assertArrayEquals(new long[] {101, 1996, 4248, 102}, tok.encode("the quick brown fox", 4).ids());
        assertEquals(6, tok.encode("the quick brown fox", 128).ids().length);
    }

    @Test
    void otherTokenizerKindsAreRejectedWithTheReason() {
        String bpe = "{\"model\":{\"type\":\"BPE\",\"vocab\":{}},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}";
        var e = assertThrows(UnsupportedModelException.class,
                () -> WordPieceTokenizer.fromJson(bpe.getBytes(StandardCharsets.UTF_8), "x.json"));
        assertTrue(e.getMessage().contains("BPE"), e.getMessage());
    }
}
