package dev.offload.compress;

import dev.offload.model.ActivationQuantization;
import dev.offload.model.EncoderConfig;
import dev.offload.model.EncoderModel;
import dev.offload.model.EncoderReference;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.TokenBatch;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.stream.IntStream;

/**
 * {@link HeadImportance#ACTIVATION}: per layer and head, the mean over the calibration sentences' real tokens of the
 * L2 norm of the head's contribution to the attention output, y_h = context_h · O_h (its d context values times its d
 * rows of the dequantized output projection; the bias belongs to no head). The contexts are the Java reference's
 * ({@link EncoderReference}, activations quantized per sentence as the graph does) for the unpruned model, so every
 * layer is scored with its inputs as the original model computes them. The product is taken in double on the float
 * context rather than on its uint8 quantization: the score ranks heads, it is not an output.
 */
final class HeadActivations {
    private HeadActivations() {}

    /**
     * Scores made, by model and calibration batches (records of arrays: equal means the same arrays; dropped with the
     * model), so a sweep of head targets over one model runs the reference on the calibration sentences once.
     */
    private static final Map<EncoderModel, Map<List<TokenBatch>, double[][]>> made = new WeakHashMap<>();

    /** scores[layer][head], averaged over every real token of {@code batches} (shared between calls: read only). */
    static double[][] of(EncoderModel model, List<TokenBatch> batches) {
        synchronized (made) {
            return made.computeIfAbsent(model, m -> new HashMap<>()).computeIfAbsent(batches, b -> measure(model, b));
        }
    }

    private static double[][] measure(EncoderModel model, List<TokenBatch> batches) {
        EncoderConfig c = model.config();
        int heads = c.heads(), d = c.headSize(), width = c.attentionWidth();
        double[][] sum = new double[model.layers().size()][heads];
        double[][] projection = new double[model.layers().size()][];
        for (int l = 0; l < projection.length; l++) projection[l] = dequantized((QuantizedLinear) model.layers().get(l).attentionOutput());
        long tokens = 0;
        for (TokenBatch batch : batches) {
            EncoderReference.forward(model, batch, ActivationQuantization.PER_SENTENCE, (layer, context) -> {
                double[] o = projection[layer];
                int n = c.hidden();
                // Rows of real tokens only: padding rows are computed by the reference but are not the model's output.
                int[] rows = IntStream.range(0, batch.batch()).flatMap(b -> IntStream.range(0, batch.realTokens(b)).map(t -> b * batch.length() + t)).toArray();
                double[] perHead = IntStream.range(0, heads).parallel().mapToDouble(h -> {
                    double total = 0;
                    double[] y = new double[n];
                    for (int r : rows) {
                        java.util.Arrays.fill(y, 0);
                        for (int i = 0; i < d; i++) {
                            double x = context[r * width + h * d + i];
                            int base = (h * d + i) * n;
                            for (int j = 0; j < n; j++) y[j] += x * o[base + j];
                        }
                        double sq = 0;
                        for (double v : y) sq += v * v;
                        total += Math.sqrt(sq);
                    }
                    return total;
                }).toArray();
                for (int h = 0; h < heads; h++) sum[layer][h] += perHead[h];
            });
            tokens += batch.realTokens();
        }
        if (tokens == 0) throw new IllegalArgumentException("the calibration sentences have no tokens");
        for (double[] layer : sum) for (int h = 0; h < heads; h++) layer[h] /= tokens;
        return sum;
    }

    /** The linear's weight dequantized, [inputs][outputs] row-major. */
    private static double[] dequantized(QuantizedLinear q) {
        double[] w = new double[q.inputs() * q.outputs()];
        for (int k = 0; k < q.inputs(); k++) for (int j = 0; j < q.outputs(); j++) w[k * q.outputs() + j] = LinearSlices.dequantized(q, k, j);
        return w;
    }
}
