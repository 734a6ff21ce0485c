package dev.offload.model.onnx;

import dev.offload.limits.Sizes;
import java.util.Arrays;

/**
 * A constant tensor of an ONNX graph (an initializer, a Constant node's value, or a value folded at import),
 * row-major. Exactly one backing array is set, by element type: {@code floats} for FLOAT, {@code longs} for
 * INT32 and INT64, {@code bytes} for INT8 and UINT8 (raw two's-complement bytes; read UINT8 with
 * {@link #uint8(int)}).
 */
public record OnnxTensor(String name, OnnxType type, long[] shape, float[] floats, long[] longs, byte[] bytes) {

    public OnnxTensor {
        long n = elementCount(shape);
        int have = floats != null ? floats.length : longs != null ? longs.length : bytes.length;
        if (have != n) {
            throw new IllegalArgumentException("tensor '" + name + "' of shape " + Arrays.toString(shape)
                    + " needs " + n + " elements, has " + have);
        }
    }

    public static OnnxTensor ofFloats(String name, long[] shape, float[] v) {
        return new OnnxTensor(name, OnnxType.FLOAT, shape, v, null, null);
    }

    public static OnnxTensor ofLongs(String name, OnnxType type, long[] shape, long[] v) {
        return new OnnxTensor(name, type, shape, null, v, null);
    }

    public static OnnxTensor ofBytes(String name, OnnxType type, long[] shape, byte[] v) {
        return new OnnxTensor(name, type, shape, null, null, v);
    }

    public static long elementCount(long[] shape) { return Sizes.elements("an ONNX tensor", shape); }

    public int size() { return Math.toIntExact(elementCount(shape)); }

    public int rank() { return shape.length; }

    public int dim(int i) { return Math.toIntExact(shape[i]); }

    public boolean isScalarLike() { return size() == 1; }

    /** The float values; an integer tensor is converted. */
    public float[] toFloats() {
        if (floats != null) return floats;
        float[] out = new float[size()];
        for (int i = 0; i < out.length; i++) out[i] = longs != null ? longs[i] : type == OnnxType.UINT8 ? uint8(i) : bytes[i];
        return out;
    }

    /** The integer values of an INT32/INT64/INT8/UINT8 tensor. */
    public long[] toLongs() {
        if (longs != null) return longs;
        if (bytes != null) {
            long[] out = new long[size()];
            for (int i = 0; i < out.length; i++) out[i] = type == OnnxType.UINT8 ? uint8(i) : bytes[i];
            return out;
        }
        throw new IllegalStateException("tensor '" + name + "' is " + type + ", not an integer tensor");
    }

    public int uint8(int i) { return Byte.toUnsignedInt(bytes[i]); }

    /** The single value of a one-element tensor, as a float. */
    public float scalar() {
        if (size() != 1) throw new IllegalStateException("tensor '" + name + "' of shape " + Arrays.toString(shape) + " is not a scalar");
        return toFloats()[0];
    }

    @Override public String toString() { return name + ":" + type + Arrays.toString(shape); }
}
