package dev.offload.graph;

import dev.offload.ops.gemm.Activation;

import dev.offload.tensor.DType;
import java.util.List;

/**
 * y = act(scaleA[row] * scaleW[n] * sum_k (a[row,k] - zpA[row]) * (w[k,n] - zpW[n]) + bias[n]).
 *
 * <p>Inputs: the three outputs of a {@link DynamicQuantize} node (data [..., K], scales, zero points). Output: float32
 * [..., N]. Weights: int8 [K, N] row-major, one float scale per output channel, optional int8 zero points per
 * output channel (null = symmetric), optional float bias [N].
 */
public record Int8Linear(int inFeatures, int outFeatures, byte[] weight, float[] weightScales,
                         byte[] weightZeroPoints, float[] bias, Activation activation) implements Op {
    public Int8Linear {
        Op.require(weight.length == (long) inFeatures * outFeatures,
                "int8 linear weight has " + weight.length + " values, want K*N = " + inFeatures + "*" + outFeatures);
        Op.require(weightScales.length == outFeatures, "int8 linear needs " + outFeatures + " scales, got " + weightScales.length);
        Op.require(weightZeroPoints == null || weightZeroPoints.length == outFeatures, "weight zero points must have N entries");
        Op.require(bias == null || bias.length == outFeatures, "bias must have N = " + outFeatures + " entries");
    }

    @Override public OpKind kind() { return OpKind.LINEAR; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 3, 3, "linear");
        QuantizedInput.check(in, "linear");
        Op.require(in.getFirst().last() == inFeatures,
                "linear expects " + inFeatures + " input features, got " + in.getFirst());
        return List.of(in.getFirst().withLast(outFeatures).withDType(DType.FLOAT32));
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        long rows = in.getFirst().rows();
        long macs = rows * inFeatures * outFeatures;
        long read = in.getFirst().bytes() + weightBytes();
        return new Cost(2 * macs + rows * outFeatures * (3L + activation.operations()), read, out.getFirst().bytes());
    }

    @Override
    public long weightBytes() {
        return weight.length + 4L * outFeatures + (bias == null ? 0 : 4L * outFeatures)
                + (weightZeroPoints == null ? 0 : outFeatures);
    }

    @Override public String describe() { return "int8 linear " + inFeatures + "x" + outFeatures + " " + activation; }
}
