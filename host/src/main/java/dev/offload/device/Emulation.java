package dev.offload.device;

import dev.offload.cl.Device;
import java.util.Locale;

/** Recognises FPGA emulation platforms, which behave like boards but run on the host CPU. */
public final class Emulation {
    private Emulation() {}

    /**
     * A description of the emulation, or null for real hardware.
     *
     * @param xclEmulationMode the Xilinx emulation mode the process runs under ({@code XCL_EMULATION_MODE}), or null
     */
    public static String describe(Device d, String xclEmulationMode) {
        String p = d.platform().name().toLowerCase(Locale.ROOT);
        String n = d.name().toLowerCase(Locale.ROOT);
        if (p.contains("fpga emulation") || n.contains("fpga emulation") || n.contains("emulation device")) {
            return "Intel FPGA emulation (functional only; no timing)";
        }
        if (p.contains("xilinx") && xclEmulationMode != null && !xclEmulationMode.isBlank()) {
            return "Xilinx " + xclEmulationMode + " (XCL_EMULATION_MODE)";
        }
        return null;
    }
}
