package dev.offload.compress;

import dev.offload.graph.SparseFormat;
import dev.offload.model.EncoderLayer;
import dev.offload.model.EncoderModel;
import dev.offload.model.FactorizedLinear;
import dev.offload.model.FloatLinearWeights;
import dev.offload.model.Linear;
import dev.offload.model.QuantizedLinear;
import java.util.List;

/**
 * The bytes a model's linear weights take as offload runs them: int8 dense K x N; CSR one int8 value and one int32
 * column per non-zero plus N + 1 int32 row pointers; 2:4 the kept half of the values plus a 2-bit index each; BSR
 * R x C int8 values and one int32 column per non-zero block plus the block-row pointers; a factorized (low-rank)
 * linear both its dense factors. Scales and biases (4 bytes per output each) are counted for every format. A 4-bit
 * (Q4_0) linear takes its blocks, 18 bytes per 32 weights (an fp16 scale and 16 bytes of nibbles), and 4 bytes of
 * bias per output.
 */
public final class WeightBytes {
    private WeightBytes() {}

    public static long of(EncoderModel model, SparseFormat format) {
        long b = 0;
        for (EncoderLayer l : model.layers()) {
            for (Linear x : List.of(l.query(), l.key(), l.value(), l.attentionOutput(), l.intermediate(), l.output())) {
                b += switch (x) {
                    case QuantizedLinear q -> of(q, format);
                    // Factorized layers are dense (low-rank writes no sparse format): both factors' bytes.
                    case FactorizedLinear f -> of(f.first(), null) + of(f.second(), null);
                    case dev.offload.model.BlockQuantizedLinear q -> q.weight().byteSize() + 4L * q.outputs();
                    case FloatLinearWeights f -> 4L * f.inputs() * f.outputs() + 4L * f.outputs();
                };
            }
        }
        return b;
    }

    static long of(QuantizedLinear q, SparseFormat format) {
        int k = q.inputs(), n = q.outputs();
        long perOutput = 8L * n;
        if (format == null) return (long) k * n + perOutput;
        return perOutput + switch (format.kind()) {
            case CSR -> nonZeros(q.weight()) * 5 + 4L * (n + 1);
            case TWO_FOUR -> (long) k * n / 2 + (long) k * n / 8;
            case BSR -> {
                int r = format.blockRows(), c = format.blockCols();
                long blocks = (long) (n / r) * (k / c) - BlockPruning.zeroBlocks(q.weight(), k, n, r, c);
                yield blocks * (r * c + 4) + 4L * (n / r + 1);
            }
        };
    }

    static long nonZeros(byte[] w) {
        long nnz = 0;
        for (byte v : w) if (v != 0) nnz++;
        return nnz;
    }
}
