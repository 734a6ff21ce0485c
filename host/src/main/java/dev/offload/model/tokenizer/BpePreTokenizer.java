package dev.offload.model.tokenizer;

import dev.offload.model.gguf.GgufMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The split of text into words before byte-level BPE, by the name in {@code tokenizer.ggml.pre}. Each kind is a
 * list of patterns applied in turn, as llama.cpp applies them: every word so far is split into the pattern's
 * matches and the text between them. {@code ignoreMerges}: a word that is itself a token is taken whole
 * (llama.cpp does this for the Llama 3 family).
 */
enum BpePreTokenizer {
    /** Llama 3: contractions, letters with one leading non-letter, digits in threes, punctuation runs, newlines. */
    LLAMA3(true, Patterns.LLAMA3),
    /** DBRX, Smaug: Llama 3's pattern without whole-word lookup. */
    LLAMA3_MERGED(false, Patterns.LLAMA3),
    /** Qwen2 (and Qwen2.5, DeepSeek-R1-Qwen, StableLM 2): as Llama 3, but each digit alone. */
    QWEN2(false, Patterns.QWEN2),
    /** GPT-2: contractions, optional space before letters, digits, other symbols; trailing whitespace apart. */
    GPT2(false, Patterns.GPT2),
    /** SmolLM, StarCoder: each digit alone, then GPT-2's pattern. */
    SMOLLM(false, "\\p{N}", Patterns.GPT2),
    /** llama.cpp's default: punctuation runs, GPT-2's pattern, number runs, then groups of three ASCII digits. */
    DEFAULT(false, "[\\p{P}\\$\\+<=>\\^~\\|]+", Patterns.GPT2, "\\p{N}+", "[0-9][0-9][0-9]");

    static final String KEY = "tokenizer.ggml.pre";

    /** The patterns as llama.cpp writes them, for Java's engine with Unicode character classes (\s = White_Space). */
    private static final class Patterns {
        static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
        static final String LLAMA3 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        static final String QWEN2 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    }

    final boolean ignoreMerges;
    private final Pattern[] patterns;

    BpePreTokenizer(boolean ignoreMerges, String... regexes) {
        this.ignoreMerges = ignoreMerges;
        patterns = new Pattern[regexes.length];
        for (int i = 0; i < regexes.length; i++) patterns[i] = Pattern.compile(regexes[i], Pattern.UNICODE_CHARACTER_CLASS);
    }

    /** The kind {@code tokenizer.ggml.pre} names (absent: DEFAULT, as llama.cpp), or an error naming it. */
    static BpePreTokenizer of(GgufMetadata md) {
        String name = md.optString(KEY).orElse("default");
        return switch (name) {
            case "default" -> DEFAULT;
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral" -> LLAMA3;
            case "dbrx", "smaug-bpe" -> LLAMA3_MERGED;
            case "qwen2", "deepseek-r1-qwen", "megrez", "stablelm2" -> QWEN2;
            case "gpt-2", "phi-2", "mpt", "olmo", "jais", "exaone4" -> GPT2;
            case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b" -> SMOLLM;
            default -> throw md.problem(KEY + " '" + name + "' is not a supported pre-tokenizer (supported: default, "
                    + "llama-bpe/llama3, qwen2, gpt-2, smollm/starcoder and their aliases)");
        };
    }

    /** The words of text, in order; together they are exactly the text. */
    List<String> split(String text) {
        List<String> words = new ArrayList<>();
        words.add(text);
        for (Pattern p : patterns) {
            List<String> next = new ArrayList<>();
            for (String w : words) {
                Matcher m = p.matcher(w);
                int end = 0;
                while (m.find()) {
                    if (m.start() > end) next.add(w.substring(end, m.start()));
                    if (m.end() > m.start()) next.add(m.group());
                    end = m.end();
                }
                if (end < w.length()) next.add(w.substring(end));
            }
            words = next;
        }
        return words;
    }
}
