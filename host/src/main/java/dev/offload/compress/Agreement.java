package dev.offload.compress;

import dev.offload.session.SentenceEmbeddings;
import java.util.Arrays;

/**
 * How closely a compressed model's embeddings follow the original's on the same sentences: (a) per sentence, the
 * cosine of its two embeddings (mean, 5th percentile, minimum); (b) retrieval agreement, the share of sentences whose
 * nearest neighbour among the others (by cosine) is the same sentence under both models.
 */
public record Agreement(double meanCosine, double p5Cosine, double minCosine, double retrieval) {

    public static Agreement of(SentenceEmbeddings original, SentenceEmbeddings compressed) {
        if (original.count() != compressed.count() || original.dimension() != compressed.dimension()) {
            throw new IllegalArgumentException("embeddings of different sets: " + original.count() + " vs " + compressed.count());
        }
        int n = original.count(), d = original.dimension();
        double[] cos = new double[n];
        for (int i = 0; i < n; i++) {
            double dot = 0;
            for (int k = 0; k < d; k++) dot += original.vectors()[i * d + k] * compressed.vectors()[i * d + k];
            cos[i] = dot;
        }
        int same = 0;
        for (int i = 0; i < n; i++) if (nearest(original, i) == nearest(compressed, i)) same++;
        double[] sorted = cos.clone();
        Arrays.sort(sorted);
        return new Agreement(Arrays.stream(cos).average().orElse(1), sorted[(int) Math.floor(0.05 * (n - 1))], sorted[0],
                n == 0 ? 1 : (double) same / n);
    }

    /** The other sentence most similar to sentence {@code i} (the lower index on a tie). */
    static int nearest(SentenceEmbeddings e, int i) {
        int best = -1;
        double bestCos = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < e.count(); j++) {
            if (j == i) continue;
            double c = e.cosine(i, j);
            if (c > bestCos) { bestCos = c; best = j; }
        }
        return best;
    }
}
