package dev.offload.model.tokenizer;

import dev.offload.model.gguf.GgufMetadata;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The vocabulary a GGUF file's {@code tokenizer.ggml.*} metadata describes, shared by both tokenizer kinds: token
 * strings, scores, token types, the special ids (BOS, EOS, EOT, EOM, UNK and every end-of-generation id) and the
 * split of input text around special tokens. Special-id defaults and the end-of-turn tokens found by their text
 * follow llama.cpp, so offload reads a file the way llama.cpp does.
 */
final class GgufVocabulary {
    static final String TOKENS = "tokenizer.ggml.tokens", SCORES = "tokenizer.ggml.scores",
            TOKEN_TYPE = "tokenizer.ggml.token_type", ADD_BOS = "tokenizer.ggml.add_bos_token";
    /** End-of-turn tokens llama.cpp recognises by their text when the file names no EOT id. */
    private static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<end_of_utterance>");

    /**
     * Tokens that end generation, by text, as llama.cpp lists them; a token with one of these texts is made a
     * control token (so it is matched whole in text) even where the file calls it normal.
     */
    private static final Set<String> EOG_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
            "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]",
            "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>");

    /** A piece of input text: raw text to tokenize, or one special token matched whole (token >= 0). */
    record Fragment(String text, int token) {
        boolean isToken() { return token >= 0; }
    }

    final String[] tokens;
    final float[] scores;
    final TokenType[] types;
    final Map<String, Integer> ids;
    final int bos, eos, eot, eom, unk;
    final boolean addBos;
    final int[] endOfGeneration;
    /** Special tokens, longest UTF-8 text first (the order they are matched in). */
    private final int[] specialsByLength;
    private final GgufMetadata md;
    /** Special tokens that swallow the whitespace after them (llama.cpp sets this for Phi-3 by model name). */
    private final boolean[] rightStrip;

    GgufVocabulary(GgufMetadata md, boolean spm, boolean addBosDefault) {
        this.md = md;
        tokens = md.stringArray(TOKENS).clone();
        int n = tokens.length;
        if (n == 0) throw md.problem(TOKENS + " is empty");
        scores = md.contains(SCORES) ? md.floatArray(SCORES) : new float[n];
        if (scores.length < n) throw md.problem(SCORES + " has " + scores.length + " entries for " + n + " tokens");
        int[] rawTypes = md.contains(TOKEN_TYPE) ? md.intArray(TOKEN_TYPE) : null;
        if (rawTypes != null && rawTypes.length < n) {
            throw md.problem(TOKEN_TYPE + " has " + rawTypes.length + " entries for " + n + " tokens");
        }
        types = new TokenType[n];
        ids = HashMap.newHashMap(n);
        for (int i = 0; i < n; i++) {
            if (tokens[i].isEmpty()) tokens[i] = "[EMPTY_" + i + "]"; // as llama.cpp names them: never matched
            types[i] = rawTypes == null ? TokenType.NORMAL : TokenType.of(rawTypes[i]);
            ids.put(tokens[i], i); // a repeated string maps to its last id, as in llama.cpp
        }
        bos = specialId("tokenizer.ggml.bos_token_id", spm ? 1 : -1);
        eos = specialId("tokenizer.ggml.eos_token_id", spm ? 2 : -1);
        unk = specialId("tokenizer.ggml.unknown_token_id", spm ? 0 : -1);
        eot = specialId("tokenizer.ggml.eot_token_id", firstWithText(EOT_TEXTS));
        eom = specialId("tokenizer.ggml.eom_token_id", firstWithText(List.of("<|eom_id|>")));
        // llama.cpp makes an end-of-turn token found by its text a control token.
        for (int id : new int[] {eot, eom}) if (id >= 0) types[id] = TokenType.CONTROL;
        addBos = md.optBool(ADD_BOS).orElse(addBosDefault) && bos >= 0;
        Set<Integer> eog = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
            if (EOG_TEXTS.contains(tokens[i])) {
                eog.add(i);
                types[i] = TokenType.CONTROL;
            }
        }
        for (int id : new int[] {eos, eot, eom}) if (id >= 0) eog.add(id);
        dropEndOfGenerationExceptions(eog);
        endOfGeneration = eog.stream().mapToInt(Integer::intValue).toArray();
        rightStrip = rightStripped(md);
        specialsByLength = java.util.stream.IntStream.range(0, n).filter(i -> types[i].isSpecial()).boxed()
                .sorted(Comparator.comparingInt((Integer i) -> -textBytes(i).length).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();
    }

    /** llama.cpp: in a model named phi-3/phi3 every special token but <unk>, <s>, <|endoftext|> strips the space after it. */
    private boolean[] rightStripped(GgufMetadata md) {
        boolean[] strip = new boolean[tokens.length];
        String name = md.optString("general.name").orElse("").toLowerCase(java.util.Locale.ROOT);
        if (!name.contains("phi-3") && !name.contains("phi3")) return strip;
        List<String> keep = List.of("<unk>", "<s>", "<|endoftext|>");
        for (int i = 0; i < tokens.length; i++) strip[i] = types[i].isSpecial() && !keep.contains(tokens[i]);
        return strip;
    }

    /**
     * llama.cpp's two exceptions: with "<|return|>" and "<|call|>" (or "<|calls|>" and "<|flush|>"), "<|end|>"
     * ends a message, not generation; with "<|tool_response>", "</s>" is ordinary text.
     */
    private void dropEndOfGenerationExceptions(Set<Integer> eog) {
        Set<String> texts = new java.util.HashSet<>();
        for (int id : eog) texts.add(tokens[id]);
        int end = id("<|end|>"), s = id("</s>");
        if (end >= 0 && eog.contains(end) && ((texts.contains("<|return|>") && texts.contains("<|call|>"))
                || (texts.contains("<|calls|>") && texts.contains("<|flush|>")))) {
            eog.remove(end);
            types[end] = TokenType.USER_DEFINED;
        }
        if (s >= 0 && eog.contains(s) && texts.contains("<|tool_response>")) {
            eog.remove(s);
            types[s] = TokenType.NORMAL;
        }
    }

    /** The id a key names, the default when it is absent; an id outside the vocabulary is an error. */
    private int specialId(String key, int fallback) {
        if (!md.contains(key)) return fallback < tokens.length ? fallback : -1;
        long id = md.integer(key);
        if (id < 0 || id >= tokens.length) throw md.problem(key + " = " + id + " is outside the vocabulary of " + tokens.length + " tokens");
        return (int) id;
    }

    private int firstWithText(List<String> texts) {
        for (String t : texts) {
            Integer id = ids.get(t);
            if (id != null) return id;
        }
        return -1;
    }

    int size() { return tokens.length; }

    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }

    GgufMetadata metadata() { return md; }

    boolean isEndOfGeneration(int id) {
        for (int e : endOfGeneration) if (e == id) return true;
        return false;
    }

    void checkId(int id) {
        if (id < 0 || id >= tokens.length) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + tokens.length + " tokens");
    }

    /**
     * Splits text around special tokens, longest first, each matched whole wherever it occurs. Without
     * {@code parseSpecial} only user-defined tokens are matched, control and unknown ones stay text.
     */
    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) return fragments;
        fragments.add(new Fragment(text, -1));
        for (int special : specialsByLength) {
            if (!parseSpecial && types[special] != TokenType.USER_DEFINED) continue;
            String s = tokens[special];
            List<Fragment> next = new ArrayList<>(fragments.size());
            for (Fragment f : fragments) {
                if (f.isToken() || !f.text().contains(s)) {
                    next.add(f);
                    continue;
                }
                int from = 0, at;
                while ((at = f.text().indexOf(s, from)) >= 0) {
                    if (at > from) next.add(new Fragment(f.text().substring(from, at), -1));
                    next.add(new Fragment(s, special));
                    from = at + s.length();
                    if (rightStrip[special]) while (from < f.text().length() && isCSpace(f.text().charAt(from))) from++;
                }
                if (from < f.text().length()) next.add(new Fragment(f.text().substring(from), -1));
            }
            fragments = next;
        }
        return fragments;
    }

    private static boolean isCSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

    /** A special token's bytes as written in text. */
    byte[] textBytes(int id) { return tokens[id].getBytes(StandardCharsets.UTF_8); }

    @Override
    public String toString() { return tokens.length + " tokens, specials " + Arrays.toString(endOfGeneration); }
}
