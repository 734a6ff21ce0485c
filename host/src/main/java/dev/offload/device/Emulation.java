package dev.offload.device;

import dev.offload.cl.Device;
import java.util.Locale;

/** Recognises FPGA emulation platforms, which behave like boards but run on the host CPU. */
public final class Emulation {
    private Emulation() {}

    /** A description of the emulation, or null for real hardware. */
    public static String describe(Device d) {
        String p = d.platform().name().toLowerCase(Locale.ROOT);
        String n = d.name().toLowerCase(Locale.ROOT);
        if (p.contains("fpga emulation") || n.contains("fpga emulation") || n.contains("emulation device")) {
            return "Intel FPGA emulation (functional only; no timing)";
        }
        String xcl = System.getenv("XCL_EMULATION_MODE");
        if (p.contains("xilinx") && xcl != null && !xcl.isBlank()) {
            return "Xilinx " + xcl + " (XCL_EMULATION_MODE)";
        }
        return null;
    }
}
