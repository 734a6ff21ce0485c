package dev.offload.session;

import dev.offload.bitstream.ProgramStore;
import dev.offload.config.OffloadSettings;
import dev.offload.device.ComputeDevice;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.JavaDevice;
import dev.offload.runtime.DevicePool;

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
}
