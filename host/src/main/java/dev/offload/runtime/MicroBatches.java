package dev.offload.runtime;

import dev.offload.graph.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Splitting a batch along dimension 0 into equal micro-batches and joining outputs back. Exact for graphs whose ops
 * treat each sequence on its own (linears, norms, attention, pooling): every input and output has the batch first.
 */
public final class MicroBatches {
    private MicroBatches() {}

    /** The inputs cut into {@code count} micro-batches of batch / count sequences each. */
    public static List<Map<String, HostTensor>> split(Map<String, HostTensor> inputs, int count) {
        if (count < 1) throw new IllegalArgumentException("micro-batches must be >= 1, got " + count);
        List<Map<String, HostTensor>> out = new ArrayList<>();
        for (int m = 0; m < count; m++) out.add(new LinkedHashMap<>());
        inputs.forEach((name, t) -> {
            int batch = t.type().dim(0);
            if (batch % count != 0) {
                throw new IllegalArgumentException("input '" + name + "' has batch " + batch + ", not a multiple of " + count
                        + " micro-batches; pick a divisor of the batch");
            }
            List<Integer> shape = new ArrayList<>(t.type().shape());
            shape.set(0, batch / count);
            TensorType part = new TensorType(t.type().dtype(), shape);
            int n = (int) part.elements();
            for (int m = 0; m < count; m++) out.get(m).put(name, slice(t, part, m * n, n));
        });
        return out;
    }

    private static HostTensor slice(HostTensor t, TensorType part, int from, int n) {
        Object data = t.data();
        Object copy = switch (data) {
            case float[] f -> java.util.Arrays.copyOfRange(f, from, from + n);
            case int[] i -> java.util.Arrays.copyOfRange(i, from, from + n);
            case byte[] b -> java.util.Arrays.copyOfRange(b, from, from + n);
            default -> throw new IllegalStateException("unsupported host tensor data " + data.getClass());
        };
        return new HostTensor(part, copy);
    }

    /** The parts joined along dimension 0, in order (the one part itself when there is one). */
    public static HostTensor concat(List<HostTensor> parts) {
        if (parts.size() == 1) return parts.getFirst();
        TensorType first = parts.getFirst().type();
        List<Integer> shape = new ArrayList<>(first.shape());
        shape.set(0, parts.stream().mapToInt(p -> p.type().dim(0)).sum());
        TensorType whole = new TensorType(first.dtype(), shape);
        int n = (int) whole.elements();
        Object out = switch (parts.getFirst().data()) {
            case float[] f -> new float[n];
            case int[] i -> new int[n];
            case byte[] b -> new byte[n];
            default -> throw new IllegalStateException("unsupported host tensor " + first);
        };
        int at = 0;
        for (HostTensor p : parts) {
            int len = (int) p.type().elements();
            System.arraycopy(p.data(), 0, out, at, len);
            at += len;
        }
        return new HostTensor(whole, out);
    }
}
