package dev.offload.testing;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.runtime.DevicePool;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The OpenCL CPU device (PoCL through the Panama binding) a device test class runs on, opened before its first test
 * and closed after its last. Register it as {@code @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();}.
 */
public final class CpuDeviceFixture implements BeforeAllCallback, AfterAllCallback {
    private OpenClDevice device;
    private DevicePool pool;

    @Override
    public void beforeAll(ExtensionContext context) {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        pool = DevicePool.of(device);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (device != null) device.close();
        device = null;
        pool = null;
    }

    public OpenClDevice device() { return require(device); }

    /** A pool holding just {@link #device()}. */
    public DevicePool pool() { return require(pool); }

    private static <T> T require(T value) {
        if (value == null) throw new IllegalStateException("the CPU device is open only while its test class runs");
        return value;
    }
}
