package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/** Checks of the (data, scales, zero points) triple a {@link DynamicQuantize} node produces and linears consume. */
final class QuantizedInput {
    private QuantizedInput() {}

    static void check(List<TensorType> in, String op) {
        TensorType q = in.get(0), s = in.get(1), z = in.get(2);
        Op.require(q.dtype() == DType.UINT8 || q.dtype() == DType.INT8, op + ": data must be uint8 or int8, got " + q);
        Op.require(s.dtype() == DType.FLOAT32 && s.rank() == 1 && (s.dim(0) == 1 || s.dim(0) == q.rows()),
                op + ": scales must be float32 [1] or [rows=" + q.rows() + "], got " + s);
        Op.require(z.dtype() == DType.INT32 && z.shape().equals(s.shape()),
                op + ": zero points must be int32 shaped like the scales " + s.shape() + ", got " + z);
    }
}
