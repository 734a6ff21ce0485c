package dev.offload.runtime;

import dev.offload.graph.TensorType;
import dev.offload.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A tensor in a Java array: float[] for float32, int[] for int32, byte[] for int8 and uint8 (raw bits). */
public record HostTensor(TensorType type, Object data) implements DeviceTensor {
    public HostTensor {
        long n = type.elements();
        boolean ok = switch (type.dtype()) {
            case FLOAT32 -> data instanceof float[] f && f.length == n;
            case INT32 -> data instanceof int[] i && i.length == n;
            case INT8, UINT8 -> data instanceof byte[] b && b.length == n;
            default -> false;
        };
        if (!ok) {
            throw new IllegalArgumentException("host tensor " + type + " needs a " + type.elements() + "-element "
                    + switch (type.dtype()) { case FLOAT32 -> "float[]"; case INT32 -> "int[]"; default -> "byte[]"; }
                    + ", got " + (data == null ? "null" : data.getClass().getSimpleName()));
        }
    }

    public static HostTensor of(TensorType type, float[] data) { return new HostTensor(type, data); }

    public static HostTensor of(TensorType type, int[] data) { return new HostTensor(type, data); }

    public static HostTensor of(TensorType type, byte[] data) { return new HostTensor(type, data); }

    public float[] floats() { return (float[]) data; }

    public int[] ints() { return (int[]) data; }

    public byte[] bytes() { return (byte[]) data; }

    /** Copies the data into native memory (for an upload). */
    MemorySegment toSegment(java.lang.foreign.Arena arena) {
        return switch (type.dtype()) {
            case FLOAT32 -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, floats());
            case INT32 -> arena.allocateFrom(ValueLayout.JAVA_INT, ints());
            case INT8, UINT8 -> arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes());
            default -> throw new IllegalStateException("unsupported " + type);
        };
    }

    static HostTensor fromSegment(TensorType type, MemorySegment s) {
        return new HostTensor(type, switch (type.dtype()) {
            case FLOAT32 -> s.toArray(ValueLayout.JAVA_FLOAT);
            case INT32 -> s.toArray(ValueLayout.JAVA_INT);
            case INT8, UINT8 -> s.toArray(ValueLayout.JAVA_BYTE);
            default -> throw new IllegalStateException("unsupported " + type);
        });
    }

    static boolean supported(DType t) {
        return t == DType.FLOAT32 || t == DType.INT32 || t == DType.INT8 || t == DType.UINT8;
    }
}
