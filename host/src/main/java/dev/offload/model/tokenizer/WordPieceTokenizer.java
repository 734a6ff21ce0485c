package dev.offload.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.model.TokenBatch;
import dev.offload.model.UnsupportedModelException;
import java.io.IOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A BERT tokenizer as a Hugging Face tokenizer.json describes it: special tokens matched first, then
 * BertNormalizer (clean text, space around CJK ideographs, strip accents, lowercase, per the file's flags),
 * BertPreTokenizer (split on whitespace, each punctuation character its own word), WordPiece (greedy
 * longest match, "##" continuation, [UNK] for words it cannot cover or longer than max_input_chars_per_word),
 * and the template [CLS] $A [SEP]. Other tokenizer kinds are rejected with an {@link UnsupportedModelException}.
 */
public final class WordPieceTokenizer {
    private final Map<String, Integer> vocab;
    private final Map<String, Integer> specialTokens = new HashMap<>();
    private final boolean cleanText, chineseChars, stripAccents, lowercase;
    private final String unkToken, prefix;
    private final int maxWordChars;
    private final int clsId, sepId, padId;
    /** The file's truncation length, or 0 when it has none. */
    private final int fileMaxLength;

    private WordPieceTokenizer(JsonNode root, String source) {
        JsonNode model = root.path("model");
        require(model.path("type").asText().equals("WordPiece"), source, "model type '" + model.path("type").asText() + "' (only WordPiece)");
        vocab = new HashMap<>();
        model.path("vocab").properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        require(!vocab.isEmpty(), source, "an empty vocabulary");
        unkToken = model.path("unk_token").asText("[UNK]");
        prefix = model.path("continuing_subword_prefix").asText("##");
        maxWordChars = model.path("max_input_chars_per_word").asInt(100);

        JsonNode norm = root.path("normalizer");
        require(norm.isMissingNode() || norm.isNull() || norm.path("type").asText().equals("BertNormalizer"), source,
                "normalizer '" + norm.path("type").asText() + "' (only BertNormalizer)");
        cleanText = norm.path("clean_text").asBoolean(true);
        chineseChars = norm.path("handle_chinese_chars").asBoolean(true);
        lowercase = norm.path("lowercase").asBoolean(true);
        // Hugging Face: strip_accents null means "same as lowercase".
        stripAccents = norm.path("strip_accents").isBoolean() ? norm.path("strip_accents").asBoolean() : lowercase;

        JsonNode pre = root.path("pre_tokenizer");
        require(pre.path("type").asText().equals("BertPreTokenizer"), source, "pre_tokenizer '" + pre.path("type").asText() + "' (only BertPreTokenizer)");
        JsonNode post = root.path("post_processor");
        String postType = post.path("type").asText();
        require(postType.equals("TemplateProcessing") || postType.equals("BertProcessing"), source,
                "post_processor '" + postType + "' (only TemplateProcessing [CLS] $A [SEP] or BertProcessing)");
        if (postType.equals("TemplateProcessing")) {
            List<String> single = new ArrayList<>();
            for (JsonNode piece : post.path("single")) {
                single.add(piece.has("SpecialToken") ? piece.path("SpecialToken").path("id").asText() : "$" + piece.path("Sequence").path("id").asText());
            }
            require(single.equals(List.of("[CLS]", "$A", "[SEP]")), source, "template " + single + " (only [CLS] $A [SEP])");
        }
        for (JsonNode t : root.path("added_tokens")) {
            if (t.path("special").asBoolean()) specialTokens.put(t.path("content").asText(), t.path("id").asInt());
        }
        clsId = id("[CLS]", source);
        sepId = id("[SEP]", source);
        padId = root.path("padding").isObject() ? root.path("padding").path("pad_id").asInt() : id("[PAD]", source);
        id(unkToken, source);
        fileMaxLength = root.path("truncation").isObject() ? root.path("truncation").path("max_length").asInt() : 0;
    }

    public static WordPieceTokenizer fromJson(byte[] json, String source) {
        try {
            return new WordPieceTokenizer(new ObjectMapper().readTree(json), source);
        } catch (IOException e) {
            throw new UnsupportedModelException(source + ": not a tokenizer.json (" + e.getMessage() + ")", e);
        }
    }

    private static void require(boolean ok, String source, String what) {
        if (!ok) throw new UnsupportedModelException(source + ": unsupported tokenizer: " + what);
    }

    private int id(String token, String source) {
        Integer i = vocab.get(token);
        if (i == null) i = specialTokens.get(token);
        if (i == null) throw new UnsupportedModelException(source + ": the vocabulary has no " + token);
        return i;
    }

    public int padId() { return padId; }

    public int vocabSize() { return vocab.size(); }

    /** The truncation length the file asks for, or 0 when it sets none. */
    public int fileMaxLength() { return fileMaxLength; }

    /** [CLS] tokens [SEP], truncated to {@code maxLength} ids (special tokens included); token types all 0. */
    public TokenBatch.Sequence encode(String text, int maxLength) {
        if (maxLength < 2) throw new IllegalArgumentException("max length " + maxLength + " leaves no room for [CLS] and [SEP]");
        List<Integer> body = ids(text);
        int keep = Math.min(body.size(), maxLength - 2);
        long[] ids = new long[keep + 2];
        ids[0] = clsId;
        for (int i = 0; i < keep; i++) ids[i + 1] = body.get(i);
        ids[keep + 1] = sepId;
        return new TokenBatch.Sequence(ids, new long[ids.length]);
    }

    /** Word-piece ids of {@code text}, without [CLS]/[SEP]. */
    public List<Integer> ids(String text) {
        List<Integer> out = new ArrayList<>();
        for (String piece : tokens(text)) {
            Integer i = vocab.get(piece);
            out.add(i != null ? i : specialTokens.get(piece));
        }
        return out;
    }

    /** Word-piece strings of {@code text} ("hello", ",", "un", "##believable"), without [CLS]/[SEP]. */
    public List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        // Special tokens written in the text are kept whole, as Hugging Face's added-vocabulary pass does.
        int start = 0;
        while (start < text.length()) {
            int bestAt = -1;
            String best = null;
            for (String s : specialTokens.keySet()) {
                int at = text.indexOf(s, start);
                if (at >= 0 && (bestAt < 0 || at < bestAt || at == bestAt && s.length() > best.length())) { bestAt = at; best = s; }
            }
            int end = bestAt < 0 ? text.length() : bestAt;
            for (String word : preTokenize(normalize(text.substring(start, end)))) wordPiece(word, out);
            if (best == null) break;
            out.add(best);
            start = bestAt + best.length();
        }
        return out;
    }

    String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (cleanText) {
                if (c == 0 || c == 0xFFFD || isControl(c)) return;
                if (isWhitespace(c)) { sb.append(' '); return; }
            }
            if (chineseChars && isChinese(c)) sb.append(' ').appendCodePoint(c).append(' ');
            else sb.appendCodePoint(c);
        });
        String s = sb.toString();
        if (stripAccents) {
            s = Normalizer.normalize(s, Normalizer.Form.NFD);
            StringBuilder t = new StringBuilder(s.length());
            s.codePoints().filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).forEach(t::appendCodePoint);
            s = t.toString();
        }
        return lowercase ? s.toLowerCase(Locale.ROOT) : s;
    }

    /** Splits on whitespace (dropped) and around every punctuation character (kept as a word). */
    static List<String> preTokenize(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (isWhitespace(c)) {
                flush(cur, words);
            } else if (isPunctuation(c)) {
                flush(cur, words);
                words.add(new String(Character.toChars(c)));
            } else {
                cur.appendCodePoint(c);
            }
        });
        flush(cur, words);
        return words;
    }

    private static void flush(StringBuilder cur, List<String> words) {
        if (!cur.isEmpty()) { words.add(cur.toString()); cur.setLength(0); }
    }

    /** Greedy longest-match-first; a word it cannot cover completely becomes one [UNK]. */
    private void wordPiece(String word, List<String> out) {
        if (word.codePointCount(0, word.length()) > maxWordChars) { out.add(unkToken); return; }
        List<String> pieces = new ArrayList<>();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            String found = null;
            while (end > start) {
                String candidate = (start > 0 ? prefix : "") + word.substring(start, end);
                if (vocab.containsKey(candidate)) { found = candidate; break; }
                end = Character.isLowSurrogate(word.charAt(end - 1)) && end - 2 > start ? end - 2 : end - 1;
            }
            if (found == null) { out.add(unkToken); return; }
            pieces.add(found);
            start = end;
        }
        out.addAll(pieces);
    }

    static boolean isWhitespace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') return false;
        int t = Character.getType(c);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.PRIVATE_USE
                || t == Character.SURROGATE || t == Character.UNASSIGNED;
    }

    static boolean isPunctuation(int c) {
        if (c >= 33 && c <= 47 || c >= 58 && c <= 64 || c >= 91 && c <= 96 || c >= 123 && c <= 126) return true;
        int t = Character.getType(c);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION || t == Character.START_PUNCTUATION
                || t == Character.END_PUNCTUATION || t == Character.INITIAL_QUOTE_PUNCTUATION
                || t == Character.FINAL_QUOTE_PUNCTUATION || t == Character.OTHER_PUNCTUATION;
    }

    /** CJK Unified Ideographs and their extensions and compatibility blocks (not Hangul, kana). */
    static boolean isChinese(int c) {
        return c >= 0x4E00 && c <= 0x9FFF || c >= 0x3400 && c <= 0x4DBF || c >= 0x20000 && c <= 0x2A6DF
                || c >= 0x2A700 && c <= 0x2B73F || c >= 0x2B740 && c <= 0x2B81F || c >= 0x2B820 && c <= 0x2CEAF
                || c >= 0xF900 && c <= 0xFAFF || c >= 0x2F800 && c <= 0x2FA1F;
    }
}
