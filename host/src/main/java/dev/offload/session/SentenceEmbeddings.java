package dev.offload.session;

/**
 * Sentence embeddings, L2-normalized, one row per text in input order: {@code vectors} is [count][dimension]
 * row-major.
 *
 * @param tokens    real tokens fed to the model, [CLS] and [SEP] included
 * @param truncated texts cut to the session's maximum length
 */
public record SentenceEmbeddings(float[] vectors, int count, int dimension, long tokens, int truncated) {
    public SentenceEmbeddings {
        if ((long) count * dimension != vectors.length) {
            throw new IllegalArgumentException(count + " x " + dimension + " embeddings need " + (long) count * dimension + " floats, got " + vectors.length);
        }
    }

    /** Text {@code i}'s embedding (a copy). */
    public float[] vector(int i) {
        float[] v = new float[dimension];
        System.arraycopy(vectors, java.util.Objects.checkIndex(i, count) * dimension, v, 0, dimension);
        return v;
    }

    /** Cosine similarity of texts i and j: their dot product, the vectors being unit length. */
    public double cosine(int i, int j) {
        java.util.Objects.checkIndex(i, count);
        java.util.Objects.checkIndex(j, count);
        double dot = 0;
        for (int k = 0; k < dimension; k++) dot += vectors[i * dimension + k] * vectors[j * dimension + k];
        return dot;
    }
}
