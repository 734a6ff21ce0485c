package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/** An element type and a static shape. Graphs are built for one batch size and sequence length. */
public record TensorType(DType dtype, List<Integer> shape) {
    public TensorType {
        shape = List.copyOf(shape);
        for (int d : shape) {
            if (d <= 0) throw new IllegalArgumentException("tensor dimensions must be positive, got " + shape);
        }
    }

    public static TensorType of(DType dtype, int... dims) {
        return new TensorType(dtype, java.util.Arrays.stream(dims).boxed().toList());
    }

    public int rank() { return shape.size(); }

    public int dim(int i) { return shape.get(i < 0 ? shape.size() + i : i); }

    /** The last dimension: the feature size of activations. */
    public int last() { return dim(-1); }

    /** Product of all dimensions but the last: the number of rows of a [rows, features] view. */
    public int rows() {
        int r = 1;
        for (int i = 0; i < shape.size() - 1; i++) r *= shape.get(i);
        return r;
    }

    public long elements() {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    public long bytes() { return elements() * dtype.size(); }

    /** The same shape with a different last dimension. */
    public TensorType withLast(int last) {
        var s = new java.util.ArrayList<>(shape);
        s.set(s.size() - 1, last);
        return new TensorType(dtype, s);
    }

    public TensorType withDType(DType t) { return new TensorType(t, shape); }

    @Override public String toString() { return dtype.numpyName() + shape; }
}
