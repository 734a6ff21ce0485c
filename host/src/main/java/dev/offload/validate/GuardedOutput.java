package dev.offload.validate;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An output buffer made to catch kernel bugs: the payload (a sub-buffer handed to the kernel) sits between
 * two guard regions, and all three are filled with a poison pattern before the run. Afterwards an element
 * still holding poison was never written, and a changed guard byte means the kernel wrote out of bounds.
 */
public final class GuardedOutput implements AutoCloseable {
    /** Guard size: larger than any alignment a device asks of sub-buffer origins. */
    private static final long GUARD = 4096;
    /** int32 poison: an unlikely value (0x7F7F7F7F) that no test input produces by accident. */
    public static final byte[] INT_POISON = {0x7F, 0x7F, 0x7F, 0x7F};
    /** float32 poison: a quiet NaN with a payload, so an unwritten element can never compare equal. */
    public static final byte[] FLOAT_POISON = {(byte) 0xAD, (byte) 0xDE, (byte) 0xC0, 0x7F};
    public static final byte[] BYTE_POISON = {(byte) 0xA5};

    private final OpenClDevice device;
    private final Buffer whole;
    private final Buffer payload;
    private final long payloadBytes;
    private final byte[] poison;
    private final long guardBytes;

    private GuardedOutput(OpenClDevice device, long payloadBytes, byte[] poison) {
        this.device = device;
        this.payloadBytes = payloadBytes;
        this.poison = poison.clone();
        long align = Math.max(device.info().baseAddressAlignBytes(), 1);
        this.guardBytes = ((GUARD + align - 1) / align) * align;
        long total = guardBytes * 2 + roundUp(payloadBytes, poison.length);
        this.whole = device.context().createBuffer(total);
        device.queue().fill(whole, poison, 0, total).await().close();
        this.payload = whole.slice(guardBytes, payloadBytes);
    }

    private static long roundUp(long v, long m) { return (v + m - 1) / m * m; }

    public static GuardedOutput of(OpenClDevice device, long payloadBytes, byte[] poisonPattern) {
        return new GuardedOutput(device, payloadBytes, poisonPattern);
    }

    public static GuardedOutput ints(OpenClDevice d, int count) { return of(d, 4L * count, INT_POISON); }

    public static GuardedOutput floats(OpenClDevice d, int count) { return of(d, 4L * count, FLOAT_POISON); }

    public static GuardedOutput bytes(OpenClDevice d, int count) { return of(d, count, BYTE_POISON); }

    /** The buffer to pass to the kernel as its output. */
    public Buffer buffer() { return payload; }

    /** True when both guard regions still hold the poison pattern. */
    public boolean guardsIntact() {
        try (Arena arena = Arena.ofConfined()) {
            long total = whole.size();
            MemorySegment all = arena.allocate(total);
            device.queue().readBlocking(whole, all);
            long payloadEnd = guardBytes + payloadBytes;
            for (long i = 0; i < total; i++) {
                if (i >= guardBytes && i < payloadEnd) continue;
                // The pattern is laid from offset 0 of the whole buffer, so byte i holds poison[i % len].
                if (all.get(ValueLayout.JAVA_BYTE, i) != poison[(int) (i % poison.length)]) return false;
            }
            return true;
        }
    }

    private MemorySegment readPayload(Arena arena) {
        MemorySegment s = arena.allocate(Math.max(payloadBytes, 1));
        device.queue().readBlocking(payload, s.asSlice(0, payloadBytes));
        return s.asSlice(0, payloadBytes);
    }

    public int[] readInts() {
        try (Arena a = Arena.ofConfined()) { return readPayload(a).toArray(ValueLayout.JAVA_INT); }
    }

    public float[] readFloats() {
        try (Arena a = Arena.ofConfined()) { return readPayload(a).toArray(ValueLayout.JAVA_FLOAT); }
    }

    public byte[] readBytes() {
        try (Arena a = Arena.ofConfined()) { return readPayload(a).toArray(ValueLayout.JAVA_BYTE); }
    }

    @Override
    public void close() {
        payload.close();
        whole.close();
    }
}
