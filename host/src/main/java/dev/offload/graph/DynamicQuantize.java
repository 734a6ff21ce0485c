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
 * ([rows]) and zero points all 0 (round half to even, clamp to [-127, 127]). {@link Mode#PER_SENTENCE_UINT8} takes
 * x [B, S, C] and int32 key lengths [B]: DynamicQuantizeLinear's rules with one range per sentence over its first
 * lengths[b] rows (its real tokens; all S rows when the length is 0), written per row ([rows]) so a sentence's
 * result does not depend on its padding or its batch neighbours (the imported encoders' semantics,
 * {@code dev.offload.model.ActivationQuantization#PER_SENTENCE}). An all-zero range has scale 1 and zero point 0.
 * {@link Mode#PER_BLOCK_INT8} is ggml's block_q8_0 along the last axis (a multiple of 32): int8 data, one float scale
 * per block of 32 ([rows, K / 32], each the fp16 value ggml would store) and one zero point, 0 ([1]); what a
 * {@link BlockLinear} reads ({@code dev.offload.ops.quant.Q8Block} has the rules).
 */
public record DynamicQuantize(Mode mode) implements Op {
    public enum Mode { PER_TENSOR_UINT8, PER_ROW_INT8, PER_SENTENCE_UINT8, PER_BLOCK_INT8 }

    /** Elements per block of {@link Mode#PER_BLOCK_INT8}. */
    public static final int BLOCK = 32;

    @Override public OpKind kind() { return OpKind.QUANTIZE; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        boolean sentences = mode == Mode.PER_SENTENCE_UINT8;
        Op.arity(in, sentences ? 2 : 1, sentences ? 2 : 1, "quantize " + mode);
        TensorType x = in.getFirst();
        Op.require(x.dtype() == DType.FLOAT32, "quantize takes float32, got " + x);
        if (sentences) {
            Op.require(x.rank() == 3, "per-sentence quantize takes x [B, S, C], got " + x);
            Op.require(in.get(1).dtype() == DType.INT32 && in.get(1).shape().equals(List.of(x.dim(0))),
                    "per-sentence quantize lengths must be int32 [B=" + x.dim(0) + "], got " + in.get(1));
        }
        if (mode == Mode.PER_BLOCK_INT8) {
            Op.require(x.last() % BLOCK == 0, "per-block int8 quantize needs a last axis that is a multiple of " + BLOCK + ", got " + x);
            return List.of(x.withDType(DType.INT8), TensorType.of(DType.FLOAT32, x.rows(), x.last() / BLOCK), TensorType.of(DType.INT32, 1));
        }
        int groups = mode == Mode.PER_TENSOR_UINT8 ? 1 : x.rows();
        return List.of(x.withDType(mode == Mode.PER_ROW_INT8 ? DType.INT8 : DType.UINT8),
                TensorType.of(DType.FLOAT32, groups), TensorType.of(DType.INT32, groups));
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        // A pass for the range and a pass to scale, round and clamp.
        return Cost.elementwise(in.subList(0, 1), out, 5);
    }

    @Override public String describe() { return "quantize " + mode.name().toLowerCase(java.util.Locale.ROOT); }
}
