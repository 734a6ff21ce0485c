package dev.offload.graph;

import java.util.List;

/**
 * {@link RmsNorm} followed by {@link DynamicQuantize} per block of 32 (int8, ggml's block_q8_0), as one node: the
 * decoder's norms feed only block-quantized linears, so the float normed row is never needed and one launch does
 * both. The outputs are the quantize node's three (int8 data, scales [rows, K / 32], zero point [1]); the result is
 * exactly the unfused pair's.
 */
public record RmsNormBlockQuantize(float[] gamma, float epsilon) implements Op {
    private static final DynamicQuantize QUANTIZE = new DynamicQuantize(DynamicQuantize.Mode.PER_BLOCK_INT8);

    /** The norm this node starts with. */
    public RmsNorm norm() { return new RmsNorm(gamma, epsilon); }

    @Override public OpKind kind() { return OpKind.RMS_NORM_QUANTIZE; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) { return QUANTIZE.outputTypes(norm().outputTypes(in)); }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        return Cost.elementwise(in, out, 4 + 5).plus(new Cost(0, weightBytes(), 0));   // rms_norm's 4 and quantize's 5 per element
    }

    @Override public long weightBytes() { return 4L * gamma.length; }
}
