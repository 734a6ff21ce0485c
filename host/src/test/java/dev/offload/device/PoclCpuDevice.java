package dev.offload.device;

import dev.offload.cl.Binding;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The OpenCL CPU device (PoCL here) through Panama, opened once for a test class and closed after it:
 * {@code @RegisterExtension static final PoclCpuDevice cpu = new PoclCpuDevice();}, then {@code cpu.device()}.
 */
public final class PoclCpuDevice implements BeforeAllCallback, AfterAllCallback {
    private OpenClDevice device;

    /** The open device (between the class's first and last test). */
    public OpenClDevice device() { return device; }

    @Override
    public void beforeAll(ExtensionContext context) {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (device != null) device.close();
        device = null;
    }
}
