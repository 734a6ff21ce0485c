package dev.offload.decoder;

import dev.offload.model.gguf.GgufFile;
import dev.offload.model.gguf.GgufValue;
import dev.offload.model.gguf.GgufValueType;
import dev.offload.model.gguf.GgufWriter;
import dev.offload.peer.NodeLlamaCpp;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tokenizer of a {@link SeededLlamaModel}: every {@code tokenizer.*} key of llama.cpp's vocabulary-only
 * {@code ggml-vocab-llama-bpe.gguf} (the real Llama 3 tokenizer: byte-level BPE, 128256 tokens, 280147 merges), or,
 * where that file is not at hand, a synthetic SentencePiece vocabulary of the same size (control tokens, 256 byte
 * tokens, then pieces), so the output projection, and what a decode step streams, stays Llama 3's size either way.
 *
 * @param name what the model file's cache name says about it ("llama-bpe" or "synthetic")
 * @param size tokens in the vocabulary (the embedding's and output's rows)
 * @param keys the metadata to write, in order
 */
public record SeededVocabulary(String name, int size, Map<String, GgufValue> keys) {
    /** Llama 3's vocabulary size. */
    public static final int LLAMA_3_SIZE = 128256;

    /** Llama 3's tokenizer when node-llama-cpp's vocabulary files are found ({@link NodeLlamaCpp}), else the synthetic one. */
    public static SeededVocabulary llama3OrSynthetic() {
        return NodeLlamaCpp.vocabulary("llama-bpe").map(SeededVocabulary::llama3).orElseGet(() -> synthetic(LLAMA_3_SIZE));
    }

    /** The {@code tokenizer.*} keys of {@code vocabFile} (llama.cpp's ggml-vocab-llama-bpe.gguf). */
    public static SeededVocabulary llama3(Path vocabFile) {
        Map<String, GgufValue> keys = new LinkedHashMap<>();
        try (GgufFile f = GgufFile.open(vocabFile)) {
            f.metadata().asMap().forEach((k, v) -> { if (k.startsWith("tokenizer.")) keys.put(k, v); });
            return new SeededVocabulary("llama-bpe", f.metadata().stringArray("tokenizer.ggml.tokens").length, keys);
        }
    }

    /**
     * A SentencePiece vocabulary of {@code size} tokens: {@code <unk> <s> </s>}, the 256 byte tokens (every text
     * encodes, by byte fallback), then pieces of descending score, a few common English ones first.
     */
    public static SeededVocabulary synthetic(int size) {
        String[] common = {"▁", "▁the", "▁a", "▁of", "▁to", "▁and", "▁in", "▁is", "e", "t", "a", "o", "n", "s", "er", "th"};
        if (size < 3 + 256 + common.length) throw new IllegalArgumentException("a synthetic vocabulary needs at least " + (3 + 256 + common.length) + " tokens");
        String[] tokens = new String[size];
        float[] scores = new float[size];
        long[] types = new long[size];
        tokens[0] = "<unk>";
        tokens[1] = "<s>";
        tokens[2] = "</s>";
        types[0] = 2;                  // UNKNOWN
        types[1] = types[2] = 3;       // CONTROL
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = 6;          // BYTE
        }
        for (int i = 259; i < size; i++) {
            int k = i - 259;
            tokens[i] = k < common.length ? common[k] : "▁piece" + k;
            types[i] = 1;              // NORMAL
            scores[i] = -k;
        }
        Map<String, GgufValue> keys = new LinkedHashMap<>();
        keys.put("tokenizer.ggml.model", new GgufValue.Str("llama"));
        keys.put("tokenizer.ggml.tokens", new GgufValue.Array(GgufValueType.STRING, tokens));
        keys.put("tokenizer.ggml.scores", new GgufValue.Array(GgufValueType.FLOAT32, scores));
        keys.put("tokenizer.ggml.token_type", new GgufValue.Array(GgufValueType.INT32, types));
        keys.put("tokenizer.ggml.bos_token_id", new GgufValue.Int(GgufValueType.UINT32, 1));
        keys.put("tokenizer.ggml.eos_token_id", new GgufValue.Int(GgufValueType.UINT32, 2));
        return new SeededVocabulary("synthetic", size, keys);
    }

    /** Adds the keys to {@code g}. */
    void writeTo(GgufWriter g) { keys.forEach(g::value); }

    @Override
    public String toString() { return "SeededVocabulary[" + name + ", " + size + " tokens, keys " + Arrays.toString(keys.keySet().toArray()) + "]"; }
}
