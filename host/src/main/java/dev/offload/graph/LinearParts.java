package dev.offload.graph;

import java.util.ArrayList;
import java.util.List;

/** What the linear groups ({@link Int8LinearGroup}, {@link BlockLinearGroup}) derive from their parts alike. */
final class LinearParts {
    private LinearParts() {}

    /** Each part's one output, in order. */
    static List<TensorType> outputTypes(List<? extends Op> parts, List<TensorType> in) {
        List<TensorType> out = new ArrayList<>();
        for (Op p : parts) out.add(p.outputTypes(in).getFirst());
        return out;
    }

    /** The parts' costs summed, with the {@code sharedInputBytes} they all read counted once. */
    static Cost cost(List<? extends Op> parts, List<TensorType> in, List<TensorType> out, long sharedInputBytes) {
        Cost sum = new Cost(0, sharedInputBytes, 0);
        for (int i = 0; i < parts.size(); i++) {
            Cost c = parts.get(i).cost(in, List.of(out.get(i)));
            sum = sum.plus(new Cost(c.operations(), c.bytesRead() - sharedInputBytes, c.bytesWritten()));
        }
        return sum;
    }

    /** The parts' weight bytes summed. */
    static long weightBytes(List<? extends Op> parts) { return parts.stream().mapToLong(Op::weightBytes).sum(); }
}
