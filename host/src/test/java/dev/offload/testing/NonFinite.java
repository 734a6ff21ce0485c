package dev.offload.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

/**
 * Comparing results that may hold NaN and infinities: element by element the same class (NaN, +inf, -inf, finite),
 * and the finite elements within a normwise relative bound. A NaN with the device allocator's poison pattern
 * (0xFFFFFFFF, an element no kernel wrote) is never accepted.
 */
public final class NonFinite {
    private NonFinite() {}

    /** The values tests inject: NaN, +inf, -inf. */
    public static final float[] SPECIALS = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};

    public static String kind(float f) {
        if (Float.floatToRawIntBits(f) == 0xFFFFFFFF) return "unwritten";
        if (Float.isNaN(f)) return "NaN";
        if (f == Float.POSITIVE_INFINITY) return "+inf";
        if (f == Float.NEGATIVE_INFINITY) return "-inf";
        return "finite";
    }

    /** Same kind everywhere, and finite values within {@code tolerance} of max |want| (normwise). */
    public static void assertAgree(String what, float[] want, float[] got, double tolerance) {
        assertEquals(want.length, got.length, what + ": length");
        List<String> wrong = new ArrayList<>();
        double scale = 1e-30, err = 0;
        for (float w : want) if (Float.isFinite(w)) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) {
            if (!kind(want[i]).equals(kind(got[i]))) {
                if (wrong.size() < 8) wrong.add("[" + i + "] reference " + want[i] + ", device " + got[i]);
            } else if (Float.isFinite(want[i])) {
                err = Math.max(err, Math.abs((double) got[i] - want[i]));
            }
        }
        assertTrue(wrong.isEmpty(), what + ": NaN/inf differ at " + wrong);
        assertTrue(err / scale <= tolerance, what + ": finite values differ by " + err / scale);
    }

    public static void assertAgree(String what, byte[] want, byte[] got) {
        assertEquals(java.util.Arrays.toString(want), java.util.Arrays.toString(got), what);
    }

    public static int count(float[] v, String kind) {
        int n = 0;
        for (float f : v) if (kind(f).equals(kind)) n++;
        return n;
    }
}
