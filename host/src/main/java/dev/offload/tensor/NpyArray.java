package dev.offload.tensor;

import dev.offload.limits.Sizes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An n-dimensional array as NumPy stores it: dtype, shape and C-order little-endian bytes.
 * Conversions to Java arrays copy.
 */
public record NpyArray(DType dtype, long[] shape, byte[] data) {

    public NpyArray {
        long need = Sizes.bytes("an array of shape " + Arrays.toString(shape), elementCount(shape), dtype.size());
        if (need != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype.numpyName()
                    + " needs " + need + " bytes, got " + data.length);
        }
    }

    /** The product of the dimensions, checked ({@link Sizes#elements}). */
    public static long elementCount(long[] shape) { return Sizes.elements("an array", shape); }

    public long size() { return elementCount(shape); }

    public int rank() { return shape.length; }

    public int dim(int i) { return Math.toIntExact(shape[i]); }

    public String shapeString() {
        return "(" + String.join(", ", Arrays.stream(shape).mapToObj(Long::toString).toList())
                + (shape.length == 1 ? ",)" : ")");
    }

    private ByteBuffer le() { return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN); }

    public byte[] toByteArray() { return data.clone(); }

    public int[] toIntArray() {
        int[] out = new int[Math.toIntExact(size())];
        le().asIntBuffer().get(out);
        return out;
    }

    public long[] toLongArray() {
        long[] out = new long[Math.toIntExact(size())];
        le().asLongBuffer().get(out);
        return out;
    }

    /** float32 as is; float16 widened exactly. */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(size())];
        if (dtype == DType.FLOAT16) {
            var s = le().asShortBuffer();
            for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(s.get(i));
        } else {
            le().asFloatBuffer().get(out);
        }
        return out;
    }

    public static NpyArray ofInts(int[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(Sizes.byteArrayLength("an array of shape " + Arrays.toString(shape), (long) 4 * v.length)).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(v);
        return new NpyArray(DType.INT32, shape, b.array());
    }

    public static NpyArray ofLongs(long[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(Sizes.byteArrayLength("an array of shape " + Arrays.toString(shape), (long) 8 * v.length)).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(v);
        return new NpyArray(DType.INT64, shape, b.array());
    }

    public static NpyArray ofFloats(float[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(Sizes.byteArrayLength("an array of shape " + Arrays.toString(shape), (long) 4 * v.length)).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return new NpyArray(DType.FLOAT32, shape, b.array());
    }

    public static NpyArray ofBytes(DType dtype, byte[] v, long... shape) {
        if (dtype.size() != 1) throw new IllegalArgumentException(dtype + " is not a byte type");
        return new NpyArray(dtype, shape, v.clone());
    }
}
