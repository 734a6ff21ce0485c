package dev.offload.compress;

import dev.offload.model.EncoderLayer;
import dev.offload.model.QuantizedLinear;

/**
 * Structured pruning of attention heads. Head h of a layer with head size d is columns [h*d, (h+1)*d) of the query,
 * key and value projections (each column with its scale, zero point and bias) and the same rows of the attention
 * output projection. Removing it leaves four dense, narrower matrices that run on the dense int8 GEMM, and attention
 * over fewer heads of the same size, so the score divisor sqrt(d) stays. The kept heads keep their order and their
 * original weights, byte for byte; the FFN is untouched.
 */
final class HeadPruning {
    private HeadPruning() {}

    /** The layer with only heads {@code keptHeads} (ascending) of size {@code headSize}. */
    static EncoderLayer prune(EncoderLayer l, int headSize, int[] keptHeads) {
        int[] channels = channels(keptHeads, headSize);
        return new EncoderLayer(LinearSlices.columns((QuantizedLinear) l.query(), channels),
                LinearSlices.columns((QuantizedLinear) l.key(), channels), LinearSlices.columns((QuantizedLinear) l.value(), channels),
                LinearSlices.rows((QuantizedLinear) l.attentionOutput(), channels), l.attentionNorm(),
                l.intermediate(), l.output(), l.outputNorm());
    }

    /** The attention channels (Q/K/V columns, output projection rows) of {@code heads}: d consecutive ones each. */
    static int[] channels(int[] heads, int headSize) {
        int[] c = new int[heads.length * headSize];
        for (int i = 0; i < heads.length; i++) {
            for (int j = 0; j < headSize; j++) c[i * headSize + j] = heads[i] * headSize + j;
        }
        return c;
    }

    /**
     * {@link HeadImportance#MAGNITUDE} per head: the L2 norm of its Q, K and V columns together times the L2 norm of
     * its output projection rows, all dequantized. A head that reads little or writes little matters little.
     */
    static double[] magnitude(EncoderLayer l, int heads, int headSize) {
        QuantizedLinear o = (QuantizedLinear) l.attentionOutput();
        QuantizedLinear[] qkv = {(QuantizedLinear) l.query(), (QuantizedLinear) l.key(), (QuantizedLinear) l.value()};
        double[] score = new double[heads];
        for (int h = 0; h < heads; h++) {
            double read = 0, written = 0;
            for (int c = h * headSize; c < (h + 1) * headSize; c++) {
                for (QuantizedLinear p : qkv) {
                    for (int k = 0; k < p.inputs(); k++) { double w = LinearSlices.dequantized(p, k, c); read += w * w; }
                }
                for (int n = 0; n < o.outputs(); n++) { double w = LinearSlices.dequantized(o, c, n); written += w * w; }
            }
            score[h] = Math.sqrt(read) * Math.sqrt(written);
        }
        return score;
    }
}
