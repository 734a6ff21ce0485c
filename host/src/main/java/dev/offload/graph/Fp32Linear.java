package dev.offload.graph;

import dev.offload.ops.gemm.Activation;

import dev.offload.tensor.DType;
import java.util.List;

/** y = act(x W + bias) in float32; W is [K, N] row-major. Op kind {@code float_linear}. */
public record Fp32Linear(int inFeatures, int outFeatures, float[] weight, float[] bias, Activation activation) implements Op {
    public Fp32Linear {
        Op.require(weight.length == (long) inFeatures * outFeatures, "float linear weight must have K*N values");
        Op.require(bias == null || bias.length == outFeatures, "bias must have N entries");
    }

    @Override public OpKind kind() { return OpKind.FLOAT_LINEAR; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 1, 1, "float_linear");
        TensorType x = in.getFirst();
        Op.require(x.dtype() == DType.FLOAT32 && x.last() == inFeatures, "float_linear expects float32 [..., " + inFeatures + "], got " + x);
        return List.of(x.withLast(outFeatures));
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        long rows = in.getFirst().rows();
        return new Cost(2 * rows * inFeatures * outFeatures + rows * outFeatures * (1L + activation.operations()),
                in.getFirst().bytes() + weightBytes(), out.getFirst().bytes());
    }

    @Override public long weightBytes() { return 4L * weight.length + (bias == null ? 0 : 4L * outFeatures); }

    @Override public String describe() { return "float linear " + inFeatures + "x" + outFeatures + " " + activation; }
}
