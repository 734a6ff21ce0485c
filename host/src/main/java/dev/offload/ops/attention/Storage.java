package dev.offload.ops.attention;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * How Q, K and V are stored in device memory. Arithmetic is float32 either way; FLOAT16 halves the
 * bytes read and is widened in the kernel with vload_half, which is core OpenCL (no cl_khr_fp16 needed).
 */
public enum Storage {
    FLOAT32(4, "-DHALF_STORAGE=0"),
    FLOAT16(2, "-DHALF_STORAGE=1");

    private final int bytes;
    private final String define;

    Storage(int bytes, String define) {
        this.bytes = bytes;
        this.define = define;
    }

    /** Bytes per element. */
    public int bytes() { return bytes; }

    /** The kernel build define selecting this storage. */
    String define() { return define; }

    /** The values as this storage holds them: float32 unchanged, float16 rounded to nearest even. */
    public float[] round(float[] values) {
        if (this == FLOAT32) return values;
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Float.float16ToFloat(Float.floatToFloat16(values[i]));
        return out;
    }

    /** Native memory holding the values in this storage's format (float16 rounded to nearest even). */
    public MemorySegment encode(Arena arena, float[] values) {
        if (this == FLOAT32) return arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
        MemorySegment s = arena.allocate(ValueLayout.JAVA_SHORT, values.length);
        for (int i = 0; i < values.length; i++) s.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(values[i]));
        return s;
    }
}
