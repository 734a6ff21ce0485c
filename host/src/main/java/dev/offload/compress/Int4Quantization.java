package dev.offload.compress;

import dev.offload.model.BlockQuantizedLinear;
import dev.offload.model.QuantizedLinear;
import dev.offload.ops.blockq.BlockFormat;
import dev.offload.ops.blockq.BlockMatrix;
import java.lang.foreign.Arena;

/**
 * 4-bit weights for {@link Method#INT4}: an int8 linear's weights dequantized with their per-column scale (and zero
 * point), (w[k][n] - z[n]) * s[n] in float, then re-quantized along K to Q4_0 by ggml's own rule
 * (quantize_row_q4_0_ref, which dev.offload.model.gguf.GgmlQuantizer implements): per block of 32, d = m / -8 with m
 * the value of largest magnitude (the first on a tie), stored as fp16, nibble = min(15, (int) (x / d + 8.5)). The
 * block's extreme value is exactly representable ((m / d) + 8 = 0); the other values round to the nearest of 16
 * levels. The bias is kept as it is. The int8 weights are the only input: this is a re-quantization of the file's
 * model, not of the original float weights (which the file does not hold).
 */
final class Int4Quantization {
    private Int4Quantization() {}

    static BlockQuantizedLinear quantize(QuantizedLinear q) {
        int k = q.inputs(), n = q.outputs();
        if (k % BlockFormat.BLOCK != 0) {
            throw new IllegalArgumentException("int4 needs every linear's input width to be a multiple of " + BlockFormat.BLOCK + ", got " + k);
        }
        // W^T [N, K]: a Q4_0 row holds one output's weights along K.
        float[] wt = new float[k * n];
        for (int kk = 0; kk < k; kk++) {
            for (int j = 0; j < n; j++) wt[j * k + kk] = (float) (q.weight()[kk * n + j] - q.zeroPoint(j)) * q.scale()[j];
        }
        // Arena.ofAuto: shared (the parallel references may read it from any thread), freed with the model.
        BlockMatrix blocks = BlockMatrix.quantize(BlockFormat.Q4_0, wt, n, k, Arena.ofAuto());
        return new BlockQuantizedLinear(blocks, q.bias());
    }
}
