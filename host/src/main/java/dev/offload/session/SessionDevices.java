package dev.offload.session;

import dev.offload.bitstream.ProgramStore;
import dev.offload.config.OffloadSettings;
import dev.offload.device.ComputeDevice;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.JavaDevice;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.PlacementSpec;
import java.util.function.Supplier;

/** How the sessions find their devices when the caller names none: written once for embeddings and generation. */
final class SessionDevices {
    private SessionDevices() {}

    /** The given registry, else one discovered with the process's settings (read once) and its program store. */
    static DeviceRegistry registry(DeviceRegistry given) {
        if (given != null) return given;
        ProgramStore programs = ProgramStore.fromEnvironment();
        return DeviceRegistry.discover(OffloadSettings.current()).onOpen(programs::install);
    }

    /** The first OpenCL device of a fixed pool, else java. */
    static String firstDevice(DevicePool pool) {
        return pool.distinct().stream().filter(d -> !(d instanceof JavaDevice)).findFirst().map(ComputeDevice::spec).orElse("java");
    }

    /**
     * Where a session runs: the placement asked for, else the given pool's first OpenCL device, else the registry's
     * default (the registry is discovered only when something needs it, and once).
     *
     * @param registry the registry discovered to decide the placement, or null when none was needed yet
     */
    record Where(PlacementSpec placement, DevicePool given, DeviceRegistry registry) {
        static Where resolve(PlacementSpec placement, DevicePool given, Supplier<DeviceRegistry> registry) {
            if (placement != null) return new Where(placement, given, null);
            if (given != null) return new Where(PlacementSpec.device(firstDevice(given)), given, null);
            DeviceRegistry r = registry.get();
            return new Where(PlacementSpec.device(r.defaultSpec()), null, r);
        }

        /** Whether everything runs on the java device (the sessions' pure-Java references). */
        boolean javaOnly() { return "java".equals(placement.singleDevice()); }

        /** The given pool, or null: then {@link #open} makes one the session owns. */
        DevicePool pool() { return given; }

        /** A pool opened from the registry (the one already discovered, else {@code registry}'s); the caller closes it. */
        DevicePool open(Supplier<DeviceRegistry> registry) { return DevicePool.open(this.registry != null ? this.registry : registry.get()); }
    }
}
