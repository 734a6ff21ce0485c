package dev.offload.bitstream.layout;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads integers, byte runs and length-prefixed strings from a window of a byte array, refusing every read that
 * would leave the window: a truncated or lying length field becomes a {@link LayoutException} naming the field and
 * its offset, never an out-of-bounds read. Sizes are checked as longs, so no field can wrap an int.
 */
final class ByteCursor {
    private final byte[] bytes;
    private final int end;
    private final boolean little;
    private int pos;

    ByteCursor(byte[] bytes, int start, int end, ByteOrder order) {
        this.bytes = bytes;
        this.pos = start;
        this.end = end;
        this.little = order == ByteOrder.LITTLE_ENDIAN;
    }

    static ByteCursor littleEndian(byte[] bytes) { return new ByteCursor(bytes, 0, bytes.length, ByteOrder.LITTLE_ENDIAN); }

    int position() { return pos; }

    int remaining() { return end - pos; }

    LayoutException fail(String message) { return new LayoutException("at byte " + pos + ": " + message); }

    private void need(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw fail(what + " needs " + Long.toUnsignedString(n) + " bytes, only " + remaining() + " are left");
        }
    }

    private long unsigned(int width, String what) {
        need(width, what);
        long v = 0;
        for (int i = 0; i < width; i++) {
            int b = bytes[pos + (little ? width - 1 - i : i)] & 0xFF;
            v = (v << 8) | b;
        }
        pos += width;
        return v;
    }

    int u8(String what) { return (int) unsigned(1, what); }

    int u16(String what) { return (int) unsigned(2, what); }

    long u32(String what) { return unsigned(4, what); }

    /** A 64-bit field; one of 2^63 or more reads as negative and fails every later size check. */
    long u64(String what) { return unsigned(8, what); }

    /** A field of 4 or 8 bytes (ELF's 32- and 64-bit classes). */
    long word(boolean wide, String what) { return wide ? u64(what) : u32(what); }

    byte[] bytes(long n, String what) {
        need(n, what);
        byte[] out = java.util.Arrays.copyOfRange(bytes, pos, pos + (int) n);
        pos += (int) n;
        return out;
    }

    void skip(long n, String what) {
        need(n, what);
        pos += (int) n;
    }

    /** A {@code u32} length, then that many bytes as ISO-8859-1 text, the length within [min, max]. */
    String string(String what, int min, int max) {
        long n = u32(what + " length");
        if (n < min || n > max) throw fail(what + " length " + n + " is outside " + min + ".." + max);
        return new String(bytes(n, what), StandardCharsets.ISO_8859_1);
    }

    /** The next {@code n} bytes as a cursor of their own; this one moves past them. */
    ByteCursor slice(long n, String what) {
        need(n, what);
        ByteCursor s = new ByteCursor(bytes, pos, pos + (int) n, little ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        pos += (int) n;
        return s;
    }

    /** A cursor over {@code [start, start + n)} of the same array, for formats whose tables hold absolute offsets. */
    ByteCursor at(long start, long n, ByteOrder order, String what) {
        if (start < 0 || n < 0 || start > bytes.length || n > bytes.length - start) {
            throw new LayoutException(what + " at offset " + Long.toUnsignedString(start) + ", " + Long.toUnsignedString(n)
                    + " bytes long, lies outside the " + bytes.length + "-byte file");
        }
        return new ByteCursor(bytes, (int) start, (int) (start + n), order);
    }
}
