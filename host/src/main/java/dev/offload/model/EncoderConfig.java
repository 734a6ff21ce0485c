package dev.offload.model;

/**
 * The shape of a BERT-style encoder, read from the graph: hidden size, heads and head size, layers, FFN width, table
 * sizes; {@code scoreDivisor} is the constant attention scores are divided by (sqrt(head size) in the file).
 * The head size is the graph's own (the last dimension of its split into heads), not hidden / heads: a model whose
 * heads were pruned ({@code offload compress --method heads}) keeps its head size and hidden size with fewer heads,
 * so its attention is {@link #attentionWidth} wide, narrower than hidden.
 */
public record EncoderConfig(int hidden, int heads, int headSize, int layers, int intermediate, int vocabSize, int maxPositions,
                            int typeVocabSize, float scoreDivisor) {
    /** Q, K, V and the attention context per token: heads x head size (the output projection's inputs). */
    public int attentionWidth() { return heads * headSize; }
}
