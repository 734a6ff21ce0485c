package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/**
 * Dynamic quantization of float activations, a node of its own (not hidden inside the linear layer) so that
 * its cost shows in the profile, one quantized tensor can feed several linears (Q, K and V share one) and
 * placement can put it next to whichever device reads it.
 *
 * <p>Outputs, always three: the quantized data (same shape as the input), the scales and the zero points.
 * {@link Mode#PER_TENSOR_UINT8} is ONNX DynamicQuantizeLinear: uint8, one scale and zero point ([1]) for the whole
 * tensor, range extended to include 0. {@link Mode#PER_ROW_INT8} is symmetric int8 with one scale per row
 * ([rows]) and zero points all 0 (round half to even, clamp to [-127, 127]).
 */
public record Quantize(Mode mode) implements Op {
    public enum Mode { PER_TENSOR_UINT8, PER_ROW_INT8 }

    @Override public String opKind() { return "quantize"; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 1, 1, "quantize");
        TensorType x = in.getFirst();
        Op.require(x.dtype() == DType.FLOAT32, "quantize takes float32, got " + x);
        int groups = mode == Mode.PER_TENSOR_UINT8 ? 1 : x.rows();
        return List.of(x.withDType(mode == Mode.PER_TENSOR_UINT8 ? DType.UINT8 : DType.INT8),
                TensorType.of(DType.FLOAT32, groups), TensorType.of(DType.INT32, groups));
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        // A pass for the range and a pass to scale, round and clamp.
        return Cost.elementwise(in, out, 5);
    }

    @Override public String describe() { return "quantize " + mode.name().toLowerCase(java.util.Locale.ROOT); }
}
