package dev.offload.model.gguf;

import java.util.Arrays;

/**
 * One tensor as the GGUF header describes it: name, shape (ggml order, innermost dimension first), element type,
 * offset from the start of the data section and size in bytes (computed from shape and type).
 */
public record GgufTensorInfo(String name, long[] shape, GgmlType type, long offset, long byteSize) {
    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    /** The product of the dimensions. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d; // checked when the file was read
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(shape, t.shape) && type == t.type
                && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() { return name.hashCode() * 31 + Arrays.hashCode(shape); }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape) + " @" + offset + " (" + byteSize + " bytes)";
    }
}
