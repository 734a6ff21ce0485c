package dev.offload.ops.sparse;

import dev.offload.tensor.DType;

/**
 * The element array of a matrix: int8 (quantized weights, multiplied into int32) or float32.
 * A sealed pair of records instead of a generic type so that kernels, references and files can switch on it.
 */
public sealed interface Values permits Values.Int8, Values.Float32 {

    /** {@link DType#INT8} or {@link DType#FLOAT32}. */
    DType dtype();

    int length();

    boolean isZero(int i);

    /** |value| as a double: the pruning criterion (|-128| = 128 for int8). */
    double magnitude(int i);

    /** A zero-filled array of the same element type. */
    Values zeros(int length);

    /** Copies element {@code from} of this array into element {@code to} of {@code target} (same type). */
    void copy(int from, Values target, int to);

    /** Adds element {@code from} of this array to element {@code to} of {@code target} (int8 wraps). */
    void addTo(int from, Values target, int to);

    static Values zeros(DType dtype, int length) {
        return switch (dtype) {
            case INT8 -> new Int8(new byte[length]);
            case FLOAT32 -> new Float32(new float[length]);
            default -> throw new IllegalArgumentException("sparse matrices hold int8 or float32, not " + dtype.numpyName());
        };
    }

    record Int8(byte[] data) implements Values {
        @Override public DType dtype() { return DType.INT8; }
        @Override public int length() { return data.length; }
        @Override public boolean isZero(int i) { return data[i] == 0; }
        @Override public double magnitude(int i) { return Math.abs(data[i]); }
        @Override public Values zeros(int length) { return new Int8(new byte[length]); }
        @Override public void copy(int from, Values target, int to) { ((Int8) target).data[to] = data[from]; }
        @Override public void addTo(int from, Values target, int to) { ((Int8) target).data[to] += data[from]; }
    }

    record Float32(float[] data) implements Values {
        @Override public DType dtype() { return DType.FLOAT32; }
        @Override public int length() { return data.length; }
        @Override public boolean isZero(int i) { return data[i] == 0f; }
        @Override public double magnitude(int i) { return Math.abs(data[i]); }
        @Override public Values zeros(int length) { return new Float32(new float[length]); }
        @Override public void copy(int from, Values target, int to) { ((Float32) target).data[to] = data[from]; }
        @Override public void addTo(int from, Values target, int to) { ((Float32) target).data[to] += data[from]; }
    }
}
