package dev.offload.device;

import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.config.OffloadSettings;
import java.util.Arrays;
import java.util.Locale;

/**
 * How a device's kernels are shaped. Every kernel family compiles in two styles from one source:
 *
 * <ul>
 *   <li>{@link #PORTABLE}: NDRange kernels with any work-group size; CPU-only fast paths (x86 vpmaddwd/VNNI
 *       built-ins) where the compiler targets them. CPUs and GPUs.</li>
 *   <li>{@link #FPGA}: built with {@code -D OFFLOAD_FPGA=1}, which makes every kernel carry
 *       {@code reqd_work_group_size(1,1,1)} (the single work-item form FPGA compilers pipeline) and turns the x86
 *       built-ins off. Launches pass a local size of 1 in every dimension. Accelerators.</li>
 * </ul>
 *
 * <p>The style is a build define, so it is part of every program's options: the program cache key and the
 * bitstream manifests tell the two apart. {@code OFFLOAD_KERNEL_STYLE=fpga|portable} ({@link OffloadSettings#kernelStyle})
 * forces one style on every device (so that the FPGA form can be checked on a CPU runtime such as PoCL).
 */
public enum KernelStyle {
    PORTABLE(""),
    FPGA("-D OFFLOAD_FPGA=1");

    private final String define;

    KernelStyle(String define) { this.define = define; }

    /** The build define this style adds to every program's options ("" for portable). */
    public String define() { return define; }

    /** {@code options} as the device builds them in this style. */
    public String apply(String options) {
        if (define.isEmpty()) return options;
        return options == null || options.isBlank() ? define : options + " " + define;
    }

    /**
     * The local size a launch passes: the requested one in portable style; 1 in every dimension in FPGA style,
     * where each kernel declares {@code reqd_work_group_size(1,1,1)} and any other local size fails to launch.
     */
    public long[] local(long[] global, long[] requested) {
        if (this == PORTABLE) return requested;
        long[] ones = new long[global.length];
        Arrays.fill(ones, 1);
        return ones;
    }

    /** The style a device gets under this process's settings ({@link OffloadSettings#current}). */
    public static KernelStyle forDevice(DeviceInfo info) {
        return forDevice(info, OffloadSettings.current().kernelStyle());
    }

    /** The forced style when there is one (not null), else FPGA for accelerators and portable otherwise. */
    public static KernelStyle forDevice(DeviceInfo info, KernelStyle forced) {
        if (forced != null) return forced;
        return info.type() == DeviceType.ACCELERATOR ? FPGA : PORTABLE;
    }

    /** "fpga" or "portable", any case; {@code where} names the setting in the error. */
    public static KernelStyle parse(String text, String where) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "fpga" -> FPGA;
            case "portable" -> PORTABLE;
            default -> throw new IllegalArgumentException(where + "=" + text + ": the kernel style is 'fpga' or 'portable'");
        };
    }

    /** Lower-case name, as the CLI prints and accepts it. */
    public String id() { return name().toLowerCase(Locale.ROOT); }
}
