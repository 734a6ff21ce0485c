package dev.offload.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Device;
import dev.offload.cl.DeviceType;
import dev.offload.config.OffloadSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Device selection specs, as every command takes them. */
class DeviceRegistryTest {
    final DeviceRegistry registry = DeviceRegistry.discover(Binding.PANAMA);

    @Test
    void javaNamesTheReferenceDevice() {
        assertTrue(registry.resolve("java").isEmpty());
        try (ComputeDevice d = registry.open("java")) {
            assertEquals(JavaDevice.INSTANCE, d);
        }
    }

    @Test
    void typeSpecsPickADeviceOfThatType() {
        Device cpu = registry.resolve("cl:cpu").orElseThrow();
        assertEquals(DeviceType.CPU, cpu.info().type());
        assertEquals(cpu, registry.resolve("cl:0:0").orElseThrow());
        assertEquals(cpu, registry.resolve("cl").orElseThrow());
    }

    @Test
    void nameSpecsMatchASubstringIgnoringCase() {
        Device cpu = registry.resolve("cl:cpu").orElseThrow();
        String part = cpu.name().substring(0, Math.min(6, cpu.name().length())).toUpperCase();
        assertEquals(cpu, registry.resolve("cl:name=" + part).orElseThrow());
    }

    @Test
    void anUnknownSpecIsAnErrorListingWhatExists() {
        for (String bad : new String[] {"cl:gpu-ish", "cl:9:9", "cl:name=no-such-device", "cuda", "cl:accelerator"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> registry.resolve(bad), bad);
            assertTrue(e.getMessage().contains("no device matches '" + bad + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("available: java, cl:0:0"), e.getMessage());
        }
    }

    @Test
    void theDefaultPrefersAcceleratorsThenCpusThenJava() {
        // PoCL gives one CPU device and no GPU, so the default is that CPU unless the settings name one.
        DeviceRegistry plain = DeviceRegistry.discover(Binding.PANAMA, OffloadSettings.from(Map.of(), "/home/u"));
        assertEquals(registry.resolve("cl:cpu").orElseThrow().spec(), plain.defaultSpec());
        DeviceRegistry named = DeviceRegistry.discover(Binding.PANAMA, OffloadSettings.from(Map.of("OFFLOAD_DEVICE", "java"), "/home/u"));
        assertEquals("java", named.defaultSpec());
        assertFalse(registry.availableSpecs().isEmpty());
    }

    @Test
    void devicesOpenInTheSettingsKernelStyle() {
        OffloadSettings fpga = OffloadSettings.from(Map.of("OFFLOAD_KERNEL_STYLE", "fpga"), "/home/u");
        DeviceRegistry forced = DeviceRegistry.discover(Binding.PANAMA, fpga);
        try (OpenClDevice d = forced.open(forced.resolve("cl:cpu").orElseThrow())) {
            assertEquals(KernelStyle.FPGA, d.kernelStyle());
        }
        DeviceRegistry plain = DeviceRegistry.discover(Binding.PANAMA, OffloadSettings.from(Map.of(), "/home/u"));
        try (OpenClDevice d = plain.open(plain.resolve("cl:cpu").orElseThrow())) {
            assertEquals(KernelStyle.PORTABLE, d.kernelStyle());
        }
    }

    @Test
    void anOpenClDeviceCachesBuiltPrograms() {
        try (OpenClDevice d = new OpenClDevice(registry.resolve("cl:cpu").orElseThrow())) {
            var first = d.program(dev.offload.kernels.KernelFamily.SMOKE, "");
            assertTrue(first == d.program(dev.offload.kernels.KernelFamily.SMOKE, ""), "second request is cached");
            assertFalse(first == d.program(dev.offload.kernels.KernelFamily.SMOKE, "-DUNUSED=1"), "options are part of the key");
        }
    }
}
