package dev.offload.model;

import dev.offload.runtime.DevicePool;
import java.io.PrintStream;
import java.util.function.Supplier;

/** The one rule that turns a device spec (or placement rules) into an encoder runner; {@code run} and the bench use it. */
public final class EncoderRunners {
    private EncoderRunners() {}

    /**
     * {@code java} (without pruning) is the pure-Java reference; anything else (one OpenCL device, placement rules,
     * {@code auto}) runs the encoder graph through the graph runtime on devices from {@code pool}.
     *
     * @param pool     opened only when the graph runtime is needed; the caller closes it after the runner
     * @param progress where the graph runner reports long runs, or null
     */
    public static EncoderRunner open(EncoderModel model, Pooling pooling, EncoderGraph.Prune prune, String rules,
                                     Supplier<DevicePool> pool, boolean strict, PrintStream progress) {
        if (rules.strip().equals("java") && prune == null) {
            return new JavaEncoderRunner(model, ActivationQuantization.PER_SENTENCE);
        }
        return new GraphEncoderRunner(model, pooling, prune, pool.get(), rules, strict, progress);
    }
}
