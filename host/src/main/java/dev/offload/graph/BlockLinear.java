package dev.offload.graph;

import dev.offload.ops.blockq.BlockMatrix;
import dev.offload.tensor.DType;
import java.util.List;

/**
 * A linear layer whose weight stays in ggml blocks (Q8_0 or Q4_0, {@link BlockMatrix}), llama.cpp's quantized matmul:
 * <pre>
 *   y[m, n] = bias[n] + sum over blocks b of (float) (sum_i qx[m, 32b + i] * qw[n, 32b + i]) * (dx[m, b] * dw[n, b])
 * </pre>
 * Inputs: the three outputs of a {@link DynamicQuantize.Mode#PER_BLOCK_INT8} node: int8 x [..., K], float32 scales
 * [rows, K / 32] (dx), int32 zero point [1] (0); with {@code residual}, a fourth: float32 r [..., N], and the output
 * is r + y, the float sum an {@link Add} of r and this product gives (a decoder's residual connection in the
 * product's launch). Output: float32 [..., N]. The integer block sums are exact; how
 * the float sum is ordered is each implementation's, within the bound {@code dev.offload.ops.blockq.BlockLinearBound}
 * states. Kind {@link OpKind#LINEAR}, so {@code linear=...} placement rules apply to it.
 *
 * @param bias     N floats, or null
 * @param residual whether a fourth input is added to the result
 */
public record BlockLinear(int inFeatures, int outFeatures, BlockMatrix weight, float[] bias, boolean residual) implements Op {
    /** A block linear without a residual input. */
    public BlockLinear(int inFeatures, int outFeatures, BlockMatrix weight, float[] bias) { this(inFeatures, outFeatures, weight, bias, false); }

    /** This linear with its result added to a fourth input. */
    public BlockLinear withResidual() { return new BlockLinear(inFeatures, outFeatures, weight, bias, true); }

    public BlockLinear {
        Op.require(weight.cols() == inFeatures && weight.rows() == outFeatures, "block linear " + inFeatures + "x" + outFeatures
                + " needs a weight of " + outFeatures + " rows of " + inFeatures + ", got " + weight);
        Op.require(bias == null || bias.length == outFeatures, "bias must have N = " + outFeatures + " entries");
    }

    @Override public OpKind kind() { return OpKind.LINEAR; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, residual ? 4 : 3, residual ? 4 : 3, residual ? "block linear with a residual" : "block linear");
        TensorType q = in.get(0), s = in.get(1), z = in.get(2);
        Op.require(q.dtype() == DType.INT8 && q.last() == inFeatures,
                "block linear expects int8 [..., " + inFeatures + "] (a per-block int8 quantize), got " + q);
        Op.require(s.dtype() == DType.FLOAT32 && s.shape().equals(List.of(q.rows(), inFeatures / DynamicQuantize.BLOCK)),
                "block linear scales must be float32 [" + q.rows() + ", " + inFeatures / DynamicQuantize.BLOCK + "], got " + s);
        Op.require(z.dtype() == DType.INT32 && z.shape().equals(List.of(1)), "block linear zero point must be int32 [1], got " + z);
        TensorType y = q.withLast(outFeatures).withDType(DType.FLOAT32);
        Op.require(!residual || in.get(3).equals(y), "block linear residual must be " + y + ", got " + (residual ? in.get(3) : null));
        return List.of(y);
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        long rows = in.getFirst().rows();
        long macs = rows * inFeatures * outFeatures;
        long blocks = rows * (inFeatures / DynamicQuantize.BLOCK) * outFeatures;
        long read = in.get(0).bytes() + in.get(1).bytes() + weightBytes() + (residual ? out.getFirst().bytes() : 0);
        return new Cost(2 * macs + 3 * blocks + (residual ? out.getFirst().elements() : 0), read, out.getFirst().bytes());
    }

    @Override
    public long weightBytes() { return weight.byteSize() + (bias == null ? 0 : 4L * outFeatures); }

    @Override
    public String describe() { return "block linear " + weight.format() + " " + inFeatures + "x" + outFeatures + (residual ? " + residual" : ""); }
}
