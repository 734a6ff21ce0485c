package dev.offload.runtime;

import dev.offload.cl.ClException;
import dev.offload.device.ComputeDevice;

/**
 * A command failed on a device after it was enqueued (seen when its event is waited for): the device is unusable
 * for the runtime, which takes it out and runs the request again once.
 */
final class DeviceFailure extends RuntimeException {
    final ComputeDevice device;

    DeviceFailure(ComputeDevice device, ClException cause) {
        super("a command on " + device.spec() + " failed: " + cause.getMessage(), cause);
        this.device = device;
    }
}
