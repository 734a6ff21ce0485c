package dev.offload.bench;

import java.util.Arrays;
import java.util.function.LongSupplier;

/** Warm-up, repeat, take the median: the one timing rule every bench section follows. */
public final class Timing {
    private Timing() {}

    /**
     * Runs {@code run} {@code warmup} times unmeasured, then {@code reps} times, and returns the median of the
     * nanoseconds each measured call reports (wall time or device time, as the caller decides).
     */
    public static double medianNanos(int warmup, int reps, LongSupplier run) {
        for (int i = 0; i < warmup; i++) run.getAsLong();
        long[] t = new long[reps];
        for (int i = 0; i < reps; i++) t[i] = run.getAsLong();
        Arrays.sort(t);
        return reps % 2 == 1 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2.0;
    }

    /** Wall-clock nanoseconds of one call. */
    public static LongSupplier wall(Runnable r) {
        return () -> {
            long t0 = System.nanoTime();
            r.run();
            return System.nanoTime() - t0;
        };
    }
}
