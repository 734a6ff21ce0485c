package dev.offload.model.tokenizer;

/** What both GGUF tokenizers answer from their vocabulary alone (the {@link TextTokenizer} methods they share). */
abstract class VocabularyTokenizer {
    final GgufVocabulary vocab;

    VocabularyTokenizer(GgufVocabulary vocab) { this.vocab = vocab; }

    public String token(int id) { vocab.checkId(id); return vocab.tokens[id]; }

    public TokenType tokenType(int id) { vocab.checkId(id); return vocab.types[id]; }

    public int vocabularySize() { return vocab.size(); }

    public boolean addsBos() { return vocab.addBos; }

    public int bos() { return vocab.bos; }

    public int eos() { return vocab.eos; }

    public int eot() { return vocab.eot; }

    public boolean isEndOfGeneration(int id) { return vocab.isEndOfGeneration(id); }
}
