package dev.offload.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.KernelStyle;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OffloadSettingsTest {
    @Test
    void anEmptyEnvironmentGivesTheDefaults() {
        OffloadSettings s = OffloadSettings.from(Map.of(), "/home/u");
        assertEquals(Binding.PANAMA, s.binding());
        assertNull(s.device());
        assertNull(s.bitstreams());
        assertNull(s.kernelStyle());
        assertNull(s.xclEmulationMode());
        assertEquals(Path.of("/home/u/.cache/offload"), s.cache().root());
    }

    @Test
    void everyVariableIsRead() {
        OffloadSettings s = OffloadSettings.from(Map.of("OFFLOAD_BINDING", "JOCL", "OFFLOAD_DEVICE", " cl:cpu ",
                "OFFLOAD_CACHE_DIR", "/tmp/c", "OFFLOAD_BITSTREAMS", "/tmp/b", "OFFLOAD_KERNEL_STYLE", "fpga",
                "XCL_EMULATION_MODE", "sw_emu"), "/home/u");
        assertEquals(Binding.JOCL, s.binding());
        assertEquals("cl:cpu", s.device());
        assertEquals(Path.of("/tmp/c/programs"), s.cache().programs());
        assertEquals(Path.of("/tmp/b"), s.bitstreams());
        assertEquals(KernelStyle.FPGA, s.kernelStyle());
        assertEquals("sw_emu", s.xclEmulationMode());
    }

    @Test
    void blankValuesAreUnset() {
        OffloadSettings s = OffloadSettings.from(Map.of("OFFLOAD_DEVICE", " ", "OFFLOAD_KERNEL_STYLE", ""), "/h");
        assertNull(s.device());
        assertNull(s.kernelStyle());
    }

    @Test
    void aBadValueNamesTheVariable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OffloadSettings.from(Map.of("OFFLOAD_KERNEL_STYLE", "gpu"), "/h"));
        assertTrue(e.getMessage().startsWith("OFFLOAD_KERNEL_STYLE=gpu"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OffloadSettings.from(Map.of("OFFLOAD_BINDING", "opencl"), "/h"));
        assertTrue(e.getMessage().startsWith("OFFLOAD_BINDING=opencl: "), e.getMessage());
    }
}
