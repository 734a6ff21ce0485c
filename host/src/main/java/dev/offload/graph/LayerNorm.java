package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/**
 * y = (x - mean) / sqrt(var + eps) * gamma + beta over the last dimension (biased variance, as ONNX and PyTorch).
 *
 * <p>{@code onnxRuntime}: round as ONNX Runtime's CPU provider rounds an exported graph's decomposed LayerNorm
 * (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add: {@link dev.offload.math.OnnxRuntimeCpu#layerNorm}),
 * so that an imported model's activations match ONNX Runtime bit for bit. Otherwise the op keeps its own
 * arithmetic (the Java reference in double, the kernel in 16 float lanes), which synthetic models use.
 *
 * <p>A second input is a residual: the node normalizes {@code x + residual}, the float sum an {@link Add} node
 * before it would compute (one rounding per element), in one launch instead of two and without the sum's tensor.
 * Its results are the bits of that Add followed by this LayerNorm.
 */
public record LayerNorm(float[] gamma, float[] beta, float epsilon, boolean onnxRuntime) implements Op {
    public LayerNorm {
        Op.require(beta == null || beta.length == gamma.length, "layer norm gamma and beta differ in length");
    }

    public LayerNorm(float[] gamma, float[] beta, float epsilon) { this(gamma, beta, epsilon, false); }

    @Override public OpKind kind() { return OpKind.LAYER_NORM; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 1, 2, "layer_norm");
        Op.require(in.getFirst().dtype() == DType.FLOAT32 && in.getFirst().last() == gamma.length,
                "layer_norm expects float32 [..., " + gamma.length + "], got " + in.getFirst());
        if (in.size() == 2) Op.require(in.get(1).equals(in.getFirst()), "layer_norm's residual must have x's type " + in.getFirst() + ", got " + in.get(1));
        return List.of(in.getFirst());
    }

    @Override public Cost cost(List<TensorType> in, List<TensorType> out) {
        return Cost.elementwise(in, out, 8 + in.size() - 1).plus(new Cost(0, weightBytes(), 0));
    }

    @Override public long weightBytes() { return 8L * gamma.length; }
}
