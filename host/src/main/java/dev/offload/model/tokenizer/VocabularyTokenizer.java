package dev.offload.model.tokenizer;

import java.nio.charset.StandardCharsets;

/** What both GGUF tokenizers answer from their vocabulary alone (the {@link TextTokenizer} methods they share). */
abstract class VocabularyTokenizer {
    final GgufVocabulary vocab;

    VocabularyTokenizer(GgufVocabulary vocab) { this.vocab = vocab; }

    /**
     * The bytes token {@code id} stands for: control and unknown tokens their text when {@code renderSpecial},
     * user-defined tokens their text, unused ones nothing; normal and byte tokens as the tokenizer's family encodes
     * them ({@link #storedBytes}).
     */
    public byte[] pieceBytes(int id, boolean renderSpecial) {
        vocab.checkId(id);
        String t = vocab.tokens[id];
        return switch (vocab.types[id]) {
            case CONTROL, UNKNOWN -> renderSpecial ? t.getBytes(StandardCharsets.UTF_8) : new byte[0];
            case USER_DEFINED -> t.getBytes(StandardCharsets.UTF_8);
            case NORMAL, BYTE -> storedBytes(vocab.types[id], t);
            case UNUSED, UNDEFINED -> new byte[0];
        };
    }

    /** The bytes of a normal or byte token as stored in the vocabulary. */
    abstract byte[] storedBytes(TokenType type, String token);

    public String token(int id) { vocab.checkId(id); return vocab.tokens[id]; }

    public TokenType tokenType(int id) { vocab.checkId(id); return vocab.types[id]; }

    public int vocabularySize() { return vocab.size(); }

    public boolean addsBos() { return vocab.addBos; }

    public int bos() { return vocab.bos; }

    public int eos() { return vocab.eos; }

    public int eot() { return vocab.eot; }

    public boolean isEndOfGeneration(int id) { return vocab.isEndOfGeneration(id); }
}
