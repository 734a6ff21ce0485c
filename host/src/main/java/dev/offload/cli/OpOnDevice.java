package dev.offload.cli;

import dev.offload.device.ComputeDevice;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * How the single-op commands (gemm-int8, spmm, attention) run their op: on the chosen OpenCL device with its kernel,
 * or, on the java device, with the op's pure-Java reference, timed here. Either way the caller gets the result, the
 * time and the device's description.
 */
final class OpOnDevice {
    private OpOnDevice() {}

    /** A result and the nanoseconds it took (the kernel's own time on OpenCL). */
    record Timed<T>(T value, long nanos) {}

    /** What ran where. */
    record Outcome<T>(String device, T value, long nanos) {}

    /**
     * Opens the device {@code spec} names and runs {@code kernel} on it, or {@code reference} when it is the java
     * device (time it with {@link #fastest}); {@code opened} hears the device's description first.
     */
    static <T> Outcome<T> run(DeviceRegistry registry, String spec, Consumer<String> opened,
                              Function<OpenClDevice, Timed<T>> kernel, Supplier<Timed<T>> reference) {
        try (ComputeDevice d = registry.open(spec)) {
            opened.accept(d.description());
            Timed<T> t = d instanceof OpenClDevice cl ? kernel.apply(cl) : reference.get();
            return new Outcome<>(d.description(), t.value(), t.nanos());
        }
    }

    /** The fastest of {@code repeat} timed runs (at least one) and its result. */
    static <T> Timed<T> fastest(int repeat, Supplier<T> run) {
        T value = null;
        long best = Long.MAX_VALUE;
        for (int r = 0; r < Math.max(1, repeat); r++) {
            long t0 = System.nanoTime();
            value = run.get();
            best = Math.min(best, System.nanoTime() - t0);
        }
        return new Timed<>(value, best);
    }
}
