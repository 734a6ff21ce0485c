package dev.offload.compress;

import dev.offload.model.EncoderLayer;
import dev.offload.model.QuantizedLinear;

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
        int[] kept = LinearSlices.kept(importance(up, down), up.outputs() - removed);
        return new EncoderLayer(l.query(), l.key(), l.value(), l.attentionOutput(), l.attentionNorm(),
                LinearSlices.columns(up, kept), LinearSlices.rows(down, kept), l.outputNorm());
    }

    /** Per neuron: |up column| * |down row|, both dequantized. */
    static double[] importance(QuantizedLinear up, QuantizedLinear down) {
        int h = up.inputs(), inter = up.outputs();
        double[] score = new double[inter];
        for (int j = 0; j < inter; j++) {
            double a = 0, b = 0;
            for (int k = 0; k < h; k++) { double w = LinearSlices.dequantized(up, k, j); a += w * w; }
            for (int n = 0; n < down.outputs(); n++) { double w = LinearSlices.dequantized(down, j, n); b += w * w; }
            score[j] = Math.sqrt(a) * Math.sqrt(b);
        }
        return score;
    }
}
