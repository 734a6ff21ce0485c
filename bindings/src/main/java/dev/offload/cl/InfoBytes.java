package dev.offload.cl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Decodes the raw answers of clGet*Info calls (native byte order, size_t is 64-bit). */
final class InfoBytes {
    private InfoBytes() {}

    private static ByteBuffer buf(byte[] b) { return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()); }

    /** A NUL-terminated string; trailing NULs and whitespace are removed. */
    static String string(byte[] b) {
        int n = b.length;
        while (n > 0 && b[n - 1] == 0) n--;
        return new String(b, 0, n, StandardCharsets.UTF_8).strip();
    }

    static int u32(byte[] b) { return buf(b).getInt(0); }

    static long u64(byte[] b) { return buf(b).getLong(0); }

    static boolean bool(byte[] b) { return u32(b) != 0; }

    static long sizeT(byte[] b) { return u64(b); }

    static long[] sizeTs(byte[] b) {
        ByteBuffer bb = buf(b);
        long[] out = new long[b.length / 8];
        for (int i = 0; i < out.length; i++) out[i] = bb.getLong(i * 8);
        return out;
    }

    static byte[] ofInt(int v) { return buf(new byte[4]).putInt(0, v).array(); }

    static byte[] ofLong(long v) { return buf(new byte[8]).putLong(0, v).array(); }

    static byte[] ofFloat(float v) { return buf(new byte[4]).putFloat(0, v).array(); }
}
