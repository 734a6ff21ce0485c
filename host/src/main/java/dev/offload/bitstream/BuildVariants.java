package dev.offload.bitstream;

import dev.offload.cl.DeviceInfo;
import dev.offload.kernels.KernelFamily;
import java.util.List;

/**
 * The one place that lists each family's runtime build options. An op that chooses options per device
 * (tile sizes, {@code -D USE_DOT}) adds its rule here, calling the same method the op itself uses, so that
 * stored bitstreams and run-time requests agree. {@code -cl-kernel-arg-info} is not listed: every kept
 * build gets it ({@link ProgramBinaries#ARG_INFO}).
 */
public final class BuildVariants implements KernelVariants {
    public static final BuildVariants DEFAULT = new BuildVariants();

    @Override
    public List<String> optionsFor(KernelFamily family, DeviceInfo device) {
        return switch (family) {
            // Until the ops choose per-device options, each family is built with the default options only.
            case SMOKE, INT8_GEMM, SPMM, ATTENTION, QUANTIZE, LAYERS -> List.of("");
        };
    }
}
