package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/** The inverse of {@link DynamicQuantize}: (q - zeroPoint) * scale, with the group (tensor or row) read from the scales' length. */
public record Dequantize() implements Op {
    @Override public OpKind kind() { return OpKind.DEQUANTIZE; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 3, 3, "dequantize");
        QuantizedInput.check(in, "dequantize");
        return List.of(in.getFirst().withDType(DType.FLOAT32));
    }

    @Override public Cost cost(List<TensorType> in, List<TensorType> out) { return Cost.elementwise(in, out, 2); }
}
