package dev.offload.graph;

import dev.offload.ops.gemm.Activation;

import dev.offload.tensor.DType;
import java.util.List;

/**
 * An {@link Int8Linear} whose weight was pruned: the IR keeps the pruned weight dense (int8 [K, N], zeros where
 * pruned, symmetric) and names the storage format the sparse kernel converts it to when it uploads it.
 * Same inputs and output as {@link Int8Linear}; the cost counts only the non-zero weights.
 */
public record SparseLinear(int inFeatures, int outFeatures, byte[] weight, float[] weightScales, float[] bias,
                           Activation activation, SparseFormat format) implements Op {
    public SparseLinear {
        Op.require(weight.length == (long) inFeatures * outFeatures, "sparse linear weight must have K*N values");
        Op.require(weightScales.length == outFeatures, "sparse linear needs N scales");
        Op.require(bias == null || bias.length == outFeatures, "bias must have N entries");
    }

    @Override public OpKind kind() { return OpKind.SPARSE_LINEAR; }

    public long nonZeros() {
        long nnz = 0;
        for (byte b : weight) if (b != 0) nnz++;
        return nnz;
    }

    /** The equivalent dense op (the java reference and the fallback run it). */
    public Int8Linear dense() {
        return new Int8Linear(inFeatures, outFeatures, weight, weightScales, null, bias, activation);
    }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 3, 3, "sparse_linear");
        QuantizedInput.check(in, "sparse_linear");
        Op.require(in.getFirst().last() == inFeatures, "sparse_linear expects " + inFeatures + " input features, got " + in.getFirst());
        return List.of(in.getFirst().withLast(outFeatures).withDType(DType.FLOAT32));
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        long rows = in.getFirst().rows();
        long nnz = nonZeros();
        // Values plus int32 column indices for the stored non-zeros (CSR-like); formats differ a little.
        long read = in.getFirst().bytes() + nnz * 5 + 4L * outFeatures;
        return new Cost(2 * rows * nnz + rows * outFeatures * (3L + activation.operations()), read, out.getFirst().bytes());
    }

    @Override public long weightBytes() { return nonZeros() * 5 + 4L * outFeatures + (bias == null ? 0 : 4L * outFeatures); }

    @Override public String describe() { return "sparse linear " + inFeatures + "x" + outFeatures + " " + format + " " + activation; }
}
