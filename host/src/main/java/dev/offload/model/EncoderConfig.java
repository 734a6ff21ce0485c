package dev.offload.model;

/**
 * The shape of a BERT-style encoder, read from the graph: hidden size, heads, layers, FFN width, table sizes;
 * {@code scoreDivisor} is the constant attention scores are divided by (sqrt(head size) in the file).
 */
public record EncoderConfig(int hidden, int heads, int layers, int intermediate, int vocabSize, int maxPositions,
                            int typeVocabSize, float scoreDivisor) {
    public int headSize() { return hidden / heads; }
}
