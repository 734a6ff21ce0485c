package dev.offload.config;

import dev.offload.cl.Binding;
import dev.offload.cl.DeviceInfo;
import dev.offload.device.KernelStyle;
import java.nio.file.Path;
import java.util.Map;

/**
 * Everything offload takes from the environment, read in one place, once: the CLI (or a library user) resolves
 * the settings at its edge and passes them down, so library classes take values and tests pass their own
 * ({@link #from}) without touching the environment.
 *
 * @param binding          {@code OFFLOAD_BINDING}: which OpenCL binding (default Panama)
 * @param device           {@code OFFLOAD_DEVICE}: the default device spec, or null for the registry's preference
 * @param cache            the cache root ({@code OFFLOAD_CACHE_DIR}, {@code XDG_CACHE_HOME}, the home directory)
 * @param bitstreams       {@code OFFLOAD_BITSTREAMS}: the bitstream store folder, or null for the checkout's
 * @param kernelStyle      {@code OFFLOAD_KERNEL_STYLE}: a style forced on every device, or null for by device type
 * @param xclEmulationMode {@code XCL_EMULATION_MODE}: the Xilinx emulation mode (sw_emu, hw_emu), or null
 */
public record OffloadSettings(Binding binding, String device, CacheDirs cache, Path bitstreams,
                              KernelStyle kernelStyle, String xclEmulationMode) {
    public static final String BINDING_ENV = "OFFLOAD_BINDING";
    public static final String DEVICE_ENV = "OFFLOAD_DEVICE";
    public static final String BITSTREAMS_ENV = "OFFLOAD_BITSTREAMS";
    public static final String KERNEL_STYLE_ENV = "OFFLOAD_KERNEL_STYLE";
    public static final String XCL_EMULATION_ENV = "XCL_EMULATION_MODE";

    /** Settings from an environment map (names as above; null or blank values are unset). */
    public static OffloadSettings from(Map<String, String> env, String userHome) {
        String binding = value(env, BINDING_ENV), style = value(env, KERNEL_STYLE_ENV), store = value(env, BITSTREAMS_ENV);
        return new OffloadSettings(binding == null ? Binding.PANAMA : binding(binding), value(env, DEVICE_ENV),
                CacheDirs.resolve(value(env, CacheDirs.ENV), value(env, "XDG_CACHE_HOME"), userHome),
                store == null ? null : Path.of(store), style == null ? null : KernelStyle.parse(style, KERNEL_STYLE_ENV),
                value(env, XCL_EMULATION_ENV));
    }

    /** This process's environment; the one place offload reads it. */
    public static OffloadSettings fromEnvironment() {
        return from(System.getenv(), System.getProperty("user.home"));
    }

    /** This process's settings, read from the environment on first use and kept. */
    public static OffloadSettings current() {
        OffloadSettings s = current;
        if (s == null) {
            synchronized (OffloadSettings.class) {
                if (current == null) current = fromEnvironment(); // a bad value throws here, and again next time
                s = current;
            }
        }
        return s;
    }

    private static volatile OffloadSettings current;

    /** The style a device gets: the forced one, else by its type ({@link KernelStyle#forDevice(DeviceInfo, KernelStyle)}). */
    public KernelStyle kernelStyleFor(DeviceInfo info) { return KernelStyle.forDevice(info, kernelStyle); }

    private static Binding binding(String name) {
        try {
            return Binding.parse(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(BINDING_ENV + "=" + name + ": " + e.getMessage(), e);
        }
    }

    private static String value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.strip();
    }
}
