package dev.offload.compress;

import dev.offload.model.EncoderLayer;
import dev.offload.model.QuantizedLinear;
import java.util.Arrays;

/**
 * Structured pruning of FFN neurons: neuron j of a layer is column j of the up projection (with its scale, zero point
 * and bias) and row j of the down projection; removing it leaves two dense, thinner matrices that run on the dense
 * int8 GEMM. Importance is weight magnitude, as in LLM-Pruner's first-order-free variant: the norm of the neuron's
 * dequantized up column times the norm of its dequantized down row (a neuron that reads little or writes little
 * matters little). Every layer loses the same number of neurons, so the model keeps one FFN width.
 */
final class FfnNeuronPruning {
    private FfnNeuronPruning() {}

    /** The layer without its {@code removed} least important neurons; the kept ones stay in their order. */
    static EncoderLayer prune(EncoderLayer l, int removed) {
        QuantizedLinear up = (QuantizedLinear) l.intermediate(), down = (QuantizedLinear) l.output();
        int[] kept = kept(importance(up, down), up.outputs() - removed);
        return new EncoderLayer(l.query(), l.key(), l.value(), l.attentionOutput(), l.attentionNorm(),
                columns(up, kept), rows(down, kept), l.outputNorm());
    }

    /** Per neuron: |up column| * |down row|, both dequantized. */
    static double[] importance(QuantizedLinear up, QuantizedLinear down) {
        int h = up.inputs(), inter = up.outputs();
        double[] score = new double[inter];
        for (int j = 0; j < inter; j++) {
            double a = 0, b = 0;
            for (int k = 0; k < h; k++) { double w = (up.weight()[k * inter + j] - up.zeroPoint(j)) * (double) up.scale()[j]; a += w * w; }
            for (int n = 0; n < down.outputs(); n++) { double w = (down.weight()[j * down.outputs() + n] - down.zeroPoint(n)) * (double) down.scale()[n]; b += w * w; }
            score[j] = Math.sqrt(a) * Math.sqrt(b);
        }
        return score;
    }

    /** The indices of the {@code keep} highest scores, ascending (ties keep the lower index). */
    static int[] kept(double[] score, int keep) {
        Integer[] order = new Integer[score.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(score[b], score[a]));   // stable: equal scores in index order
        int[] kept = new int[keep];
        for (int i = 0; i < keep; i++) kept[i] = order[i];
        Arrays.sort(kept);
        return kept;
    }

    /** The linear with only output columns {@code kept}. */
    static QuantizedLinear columns(QuantizedLinear q, int[] kept) {
        int k = q.inputs(), n = q.outputs(), m = kept.length;
        byte[] w = new byte[k * m];
        float[] scale = new float[m], bias = new float[m];
        int[] zp = q.zeroPoint() == null ? null : new int[m];
        for (int i = 0; i < m; i++) {
            int j = kept[i];
            for (int kk = 0; kk < k; kk++) w[kk * m + i] = q.weight()[kk * n + j];
            scale[i] = q.scale()[j];
            bias[i] = q.bias()[j];
            if (zp != null) zp[i] = q.zeroPoint()[j];
        }
        return new QuantizedLinear(k, m, w, scale, zp, bias);
    }

    /** The linear with only input rows {@code kept}. */
    static QuantizedLinear rows(QuantizedLinear q, int[] kept) {
        int n = q.outputs(), m = kept.length;
        byte[] w = new byte[m * n];
        for (int i = 0; i < m; i++) System.arraycopy(q.weight(), kept[i] * n, w, i * n, n);
        return new QuantizedLinear(m, n, w, q.scale(), q.zeroPoint(), q.bias());
    }
}
