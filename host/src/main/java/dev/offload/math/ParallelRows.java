package dev.offload.math;

import java.util.stream.IntStream;

/** Row loops of the Java references: rows are independent, so they run in parallel when there is enough work to pay for it. */
public final class ParallelRows {
    private ParallelRows() {}

    /** 0..rows-1, parallel when rows * workPerRow is large enough (results do not depend on it: each row is computed alone). */
    public static IntStream of(int rows, long workPerRow) {
        IntStream s = IntStream.range(0, rows);
        return rows > 1 && rows * workPerRow > 50_000 ? s.parallel() : s;
    }
}
