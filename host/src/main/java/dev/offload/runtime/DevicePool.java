package dev.offload.runtime;

import dev.offload.cl.Device;
import dev.offload.device.ComputeDevice;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.DeviceSpec;
import dev.offload.device.JavaDevice;
import dev.offload.device.OpenClDevice;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The devices a runtime may use, opened once each: specs that name the same OpenCL device ({@code cl:cpu} and
 * {@code cl:0:0}) share one {@link OpenClDevice} and so one queue and one copy of the weights.
 * A pool opened from a registry owns its devices; one made {@link #of} existing devices does not close them.
 */
public final class DevicePool implements AutoCloseable {
    private final DeviceRegistry registry;
    private final Map<String, ComputeDevice> bySpec = new LinkedHashMap<>();
    private final boolean owning;

    private DevicePool(DeviceRegistry registry, boolean owning) {
        this.registry = registry;
        this.owning = owning;
        bySpec.put(JavaDevice.SPEC, JavaDevice.INSTANCE);
    }

    public static DevicePool open(DeviceRegistry registry) { return new DevicePool(registry, true); }

    /** A pool of already open devices (tests share one device per class); closing the pool leaves them open. */
    public static DevicePool of(ComputeDevice... devices) {
        DevicePool p = new DevicePool(null, false);
        for (ComputeDevice d : devices) p.bySpec.put(d.spec(), d);
        return p;
    }

    /** The device a spec names, opening it on first use. */
    public synchronized ComputeDevice get(String spec) {
        String s = spec.strip();
        ComputeDevice known = bySpec.get(s);
        if (known != null) return known;
        if (registry == null) {
            // A fixed pool: resolve the common aliases against its devices.
            for (ComputeDevice d : bySpec.values()) {
                if (d instanceof OpenClDevice cl && aliasMatches(s, cl)) return d;
            }
            throw new IllegalArgumentException("no device matches '" + spec + "'; available: " + String.join(", ", bySpec.keySet()));
        }
        Optional<Device> resolved = registry.resolve(s);
        if (resolved.isEmpty()) return JavaDevice.INSTANCE;
        ComputeDevice d = bySpec.get(resolved.get().spec());
        if (d == null) {
            d = registry.open(resolved.get()); // through the registry: the bitstream store and program cache apply
            bySpec.put(d.spec(), d);
        }
        bySpec.putIfAbsent(s, d);
        return d;
    }

    private static boolean aliasMatches(String spec, OpenClDevice d) {
        try {
            return DeviceSpec.parse(spec).accepts(d.device());
        } catch (DeviceSpec.InvalidSpecException e) {
            return false;
        }
    }

    /** Every OpenCL device the registry knows (opening them), or the pool's devices for a fixed pool. */
    public synchronized List<ComputeDevice> allOpenCl() {
        if (registry != null) for (Device d : registry.openClDevices()) get(d.spec());
        return distinct().stream().filter(d -> d instanceof OpenClDevice).toList();
    }

    /** The distinct devices opened so far, java first. */
    public synchronized List<ComputeDevice> distinct() {
        List<ComputeDevice> out = new ArrayList<>();
        for (ComputeDevice d : bySpec.values()) if (!out.contains(d)) out.add(d);
        return out;
    }

    @Override
    public synchronized void close() {
        if (owning) for (ComputeDevice d : distinct()) d.close();
        bySpec.clear();
    }
}
