package dev.offload.bench;

import java.util.Arrays;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/** Warm-up, repeat, take the median: the one timing rule every bench section follows. */
public final class Timing {
    private Timing() {}

    /**
     * Runs {@code run} {@code warmup} times unmeasured, then {@code reps} times, and returns the median of the
     * nanoseconds each measured call reports (wall time or device time, as the caller decides).
     */
    public static double medianNanos(int warmup, int reps, LongSupplier run) {
        return medianNanos(warmup, reps, Double.POSITIVE_INFINITY, run);
    }

    /**
     * Like {@link #medianNanos(int, int, LongSupplier)}, but stops repeating once the measured calls have taken
     * {@code capSeconds} (at least one measured call always runs): big shapes on slow peers stay affordable.
     */
    public static double medianNanos(int warmup, int reps, double capSeconds, LongSupplier run) {
        return medians(warmup, reps, capSeconds, () -> {
            long ns = run.getAsLong();
            return new Sample(ns, ns);
        }).wallNanos();
    }

    /** One measured call: its wall time and the device time it reported (equal when there is no device clock). */
    public record Sample(double wallNanos, double deviceNanos) {}

    /** The medians of wall and device times over the measured calls (each median taken on its own). */
    public static Sample medians(int warmup, int reps, double capSeconds, Supplier<Sample> run) {
        for (int i = 0; i < warmup; i++) run.get();
        double[] wall = new double[reps], device = new double[reps];
        int n = 0;
        long start = System.nanoTime();
        while (n < reps) {
            Sample s = run.get();
            wall[n] = s.wallNanos();
            device[n] = s.deviceNanos();
            n++;
            if ((System.nanoTime() - start) / 1e9 > capSeconds) break;
        }
        return new Sample(median(wall, n), median(device, n));
    }

    /** The median of {@code values} (NaN for none). */
    public static double median(double... values) {
        return values.length == 0 ? Double.NaN : median(values, values.length);
    }

    private static double median(double[] values, int n) {
        double[] t = Arrays.copyOf(values, n);
        Arrays.sort(t);
        return n % 2 == 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2.0;
    }

    /**
     * Runs {@code run} unmeasured until {@code seconds} have passed (not at all for 0): on the 2-core VM the first
     * ~100 ms of a new kernel sequence ran in a slow phase (docs/cpu-speed.md), which a fixed count of one or two
     * warm-up calls left inside the measurement.
     */
    public static void warmUp(double seconds, Runnable run) {
        long start = System.nanoTime();
        while ((System.nanoTime() - start) / 1e9 < seconds) run.run();
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
