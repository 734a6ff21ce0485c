package dev.offload.session;

import dev.offload.device.DeviceRegistry;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.PlacementSpec;

/**
 * How a {@link GenerationSession} opens: where the decoder runs and how long its sequences may get. Immutable; start
 * from {@link #defaults()} and change what you need with the {@code with...} methods.
 *
 * @param placement where nodes run: a device spec, layer rules ({@code layer.0-7=cl:0:0,layer.8-15=cl:0:1}) or auto;
 *                  {@code java} alone is the pure-Java float reference ({@link dev.offload.decoder.DecoderReference});
 *                  null: the registry's default device ($OFFLOAD_DEVICE, else the first GPU/accelerator, else the CPU)
 * @param registry  the devices to open; null: discovered with the process's settings and the program store they name
 * @param devices   already open devices to use instead of a registry (the session leaves them open); usually null
 * @param context   the most positions (prompt + answer) a sequence may use, at most the model's; 0: {@value #DEFAULT_CONTEXT}
 * @param strict    fail instead of falling back to another device when an op cannot run where it is placed
 * @param profiling fold every prefill and decode step's op samples into the session's profiles (off: nothing grows)
 */
public record GenerationOptions(PlacementSpec placement, DeviceRegistry registry, DevicePool devices, int context, boolean strict,
                                boolean profiling) {
    /** The context when none is asked for and the model's is longer: what the KV cache and rotary tables are sized for. */
    public static final int DEFAULT_CONTEXT = 4096;

    public GenerationOptions {
        if (context < 0) throw new IllegalArgumentException("context must be >= 0 (0: the model's, up to " + DEFAULT_CONTEXT + "), got " + context);
    }

    /** The default device, the model's context up to 4096, no profiling. */
    public static GenerationOptions defaults() { return new GenerationOptions(null, null, null, 0, false, false); }

    /** A device spec ({@code java}, {@code cl:cpu}, {@code cl:0:1}), placement rules, or {@code auto}. */
    public GenerationOptions withPlacement(String spec) { return withPlacement(PlacementSpec.parse(spec)); }

    public GenerationOptions withPlacement(PlacementSpec p) { return new GenerationOptions(p, registry, devices, context, strict, profiling); }

    public GenerationOptions withRegistry(DeviceRegistry r) { return new GenerationOptions(placement, r, devices, context, strict, profiling); }

    public GenerationOptions withDevices(DevicePool d) { return new GenerationOptions(placement, registry, d, context, strict, profiling); }

    public GenerationOptions withContext(int n) { return new GenerationOptions(placement, registry, devices, n, strict, profiling); }

    public GenerationOptions withStrict(boolean s) { return new GenerationOptions(placement, registry, devices, context, s, profiling); }

    public GenerationOptions withProfiling(boolean p) { return new GenerationOptions(placement, registry, devices, context, strict, p); }

    /** The registry to open devices from: the given one, else the process's settings with its program store. */
    DeviceRegistry registryOrDefault() { return SessionDevices.registry(registry); }
}
