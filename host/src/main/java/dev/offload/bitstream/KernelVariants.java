package dev.offload.bitstream;

import dev.offload.cl.DeviceInfo;
import dev.offload.kernels.KernelFamily;
import java.util.List;

/**
 * The build-option strings the runtime passes to {@code OpenClDevice.program(family, options)} for a device:
 * {@code offload bitstreams build} prebuilds exactly these, so that a device that cannot compile at run time
 * (an FPGA) finds every program it will be asked for.
 */
public interface KernelVariants {
    List<String> optionsFor(KernelFamily family, DeviceInfo device);
}
