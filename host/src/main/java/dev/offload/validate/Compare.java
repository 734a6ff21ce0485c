package dev.offload.validate;

/** Turns a device result and its reference into a {@link CheckResult}. */
public final class Compare {
    private Compare() {}

    private static String guardNote(boolean guardsIntact) {
        return guardsIntact ? "" : "out-of-bounds write: a guard region was overwritten";
    }

    /** Bit-exact int32 comparison; maxError is the number of differing elements. */
    public static CheckResult exact(String op, String shape, String device, int[] want, int[] got, boolean guardsIntact) {
        if (want.length != got.length) {
            return new CheckResult(op, shape, device, Double.POSITIVE_INFINITY, 0, false,
                    "length " + got.length + " != " + want.length);
        }
        int bad = 0, first = -1;
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got[i]) { if (first < 0) first = i; bad++; }
        }
        String detail = bad == 0 ? guardNote(guardsIntact)
                : bad + " of " + want.length + " differ; first at " + first + ": got " + got[first] + ", want " + want[first]
                + (got[first] == 0x7F7F7F7F ? " (poison: never written)" : "");
        return new CheckResult(op, shape, device, bad, 0, bad == 0 && guardsIntact, detail);
    }

    /** Bit-exact int8/uint8 comparison. */
    public static CheckResult exact(String op, String shape, String device, byte[] want, byte[] got, boolean guardsIntact) {
        int[] w = new int[want.length], g = new int[got.length];
        for (int i = 0; i < want.length; i++) w[i] = want[i];
        for (int i = 0; i < got.length; i++) g[i] = got[i];
        return exact(op, shape, device, w, g, guardsIntact);
    }

    /**
     * Normwise relative error: max_i |got_i - want_i| / max_i |want_i| (a tiny floor avoids 0/0). A NaN or
     * infinity where the reference is finite (e.g. poison left in place) fails regardless of the bound.
     */
    public static CheckResult relative(String op, String shape, String device, float[] want, float[] got, double bound,
                                       boolean guardsIntact) {
        if (want.length != got.length) {
            return new CheckResult(op, shape, device, Double.POSITIVE_INFINITY, bound, false,
                    "length " + got.length + " != " + want.length);
        }
        double scale = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        scale = Math.max(scale, 1e-30);
        double maxErr = 0;
        int worst = -1;
        for (int i = 0; i < want.length; i++) {
            if (!Float.isFinite(got[i]) && Float.isFinite(want[i])) {
                return new CheckResult(op, shape, device, Double.POSITIVE_INFINITY, bound, false,
                        "element " + i + " is " + got[i] + " (never written, or overflow), want " + want[i]);
            }
            double e = Math.abs((double) got[i] - want[i]) / scale;
            if (e > maxErr || worst < 0) { maxErr = Math.max(maxErr, e); if (e >= maxErr) worst = i; }
        }
        boolean ok = maxErr <= bound && guardsIntact;
        String detail = maxErr > bound ? "worst at " + worst + ": got " + got[worst] + ", want " + want[worst]
                : guardNote(guardsIntact);
        return new CheckResult(op, shape, device, maxErr, bound, ok, detail);
    }
}
