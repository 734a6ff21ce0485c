package dev.offload.ops.attention;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import java.lang.foreign.Arena;
import java.util.Random;

/** Shared helpers of the attention tests: seeded inputs, poisoned outputs, the error measure. */
final class AttentionTesting {
    private AttentionTesting() {}

    /** Q, K, V of a shape, uniform in [-amplitude, amplitude] (never all zeros). */
    record Inputs(float[] q, float[] k, float[] v) {
        static Inputs random(AttentionShape s, long seed, float amplitude) {
            Random r = new Random(seed);
            return new Inputs(uniform(r, s.queryElements(), amplitude), uniform(r, s.kvElements(), amplitude),
                    uniform(r, s.kvElements(), 1f));
        }
    }

    static float[] uniform(Random r, long n, float amplitude) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) a[i] = (r.nextFloat() * 2 - 1) * amplitude;
        return a;
    }

    /** max |got - want| / max |want|; NaN anywhere in got is infinite error (poison left unwritten). */
    static double relativeError(float[] want, float[] got) {
        if (want.length != got.length) throw new AssertionError("lengths " + want.length + " vs " + got.length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < want.length; i++) {
            if (Float.isNaN(got[i]) || Float.isInfinite(got[i])) return Double.POSITIVE_INFINITY;
            maxDiff = Math.max(maxDiff, Math.abs((double) got[i] - want[i]));
            maxRef = Math.max(maxRef, Math.abs(want[i]));
        }
        return maxDiff / (maxRef + 1e-30);
    }

    /** Runs an op with inputs uploaded in the problem's storage and an output buffer pre-filled with NaN. */
    static float[] runPoisoned(AttentionOp op, AttentionProblem p, Inputs in) {
        return runPoisoned(op, p, in, -1);
    }

    /** As {@link #runPoisoned(AttentionOp, AttentionProblem, Inputs)}; splitSize > 0 forces the fused kernel's split. */
    static float[] runPoisoned(AttentionOp op, AttentionProblem p, Inputs in, int splitSize) {
        OpenClDevice d = op.device();
        int n = Math.toIntExact(p.shape().outputElements());
        try (Arena arena = Arena.ofConfined();
             Buffer q = d.upload(p.storage().encode(arena, in.q()));
             Buffer k = d.upload(p.storage().encode(arena, in.k()));
             Buffer v = d.upload(p.storage().encode(arena, in.v()));
             Buffer out = d.upload(nans(n))) {
            if (splitSize > 0) ((FusedAttention) op).run(p, q, k, v, out, splitSize);
            else op.run(p, q, k, v, out);
            return d.readFloats(out, n);
        }
    }

    static float[] nans(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, Float.NaN);
        return a;
    }
}
