package dev.offload.server;

import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/** A Prometheus histogram: counts of observations at or below each upper bound, their sum and count. Thread-safe. */
final class BucketHistogram {
    /** Seconds, for request latencies: 1 ms to 60 s. */
    static final double[] SECONDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    /** Sizes, for batches: 1 to 1024. */
    static final double[] SIZES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

    private final double[] bounds;
    private final LongAdder[] counts;
    private final LongAdder count = new LongAdder();
    private final DoubleAdder sum = new DoubleAdder();

    BucketHistogram(double[] bounds) {
        this.bounds = bounds.clone();
        this.counts = new LongAdder[bounds.length];
        for (int i = 0; i < counts.length; i++) counts[i] = new LongAdder();
    }

    void observe(double v) {
        // Buckets are not cumulative here; the exposition adds them up.
        for (int i = 0; i < bounds.length; i++) {
            if (v <= bounds[i]) { counts[i].increment(); break; }
        }
        count.increment();
        sum.add(v);
    }

    long count() { return count.sum(); }

    /** Appends the {@code _bucket}, {@code _sum} and {@code _count} lines; {@code labels} is "" or {@code k="v",...}. */
    void write(StringBuilder out, String name, String labels) {
        String sep = labels.isEmpty() ? "" : labels + ",";
        long cumulative = 0;
        for (int i = 0; i < bounds.length; i++) {
            cumulative += counts[i].sum();
            out.append(name).append("_bucket{").append(sep).append("le=\"").append(format(bounds[i])).append("\"} ").append(cumulative).append('\n');
        }
        long n = count.sum();
        out.append(name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(n).append('\n');
        String braces = labels.isEmpty() ? "" : "{" + labels + "}";
        out.append(name).append("_sum").append(braces).append(' ').append(sum.sum()).append('\n');
        out.append(name).append("_count").append(braces).append(' ').append(n).append('\n');
    }

    private static String format(double v) { return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v); }
}
