package dev.offload.ops.gemm;

import dev.offload.cl.DeviceInfo;
import dev.offload.device.OpenClDevice;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The int8 GEMM configuration of each open device, resolved once: the user's tuning file and the repository's
 * database are read on a device's first GEMM, not again for every linear node of every graph. Devices are held
 * weakly, so a closed and dropped device leaves the map.
 */
public final class DeviceGemmConfigs {
    private static final Logger log = LoggerFactory.getLogger(DeviceGemmConfigs.class);
    private static final DeviceGemmConfigs STANDARD = new DeviceGemmConfigs(GemmConfig::resolve);

    private final Function<DeviceInfo, GemmConfig.Choice> resolver;
    private final Map<OpenClDevice, GemmConfig.Choice> byDevice = Collections.synchronizedMap(new WeakHashMap<>());

    /** @param resolver reads the tuning store for a device (tests count its calls) */
    public DeviceGemmConfigs(Function<DeviceInfo, GemmConfig.Choice> resolver) { this.resolver = resolver; }

    /** The configurations from the standard tuning store ({@link GemmConfig#resolve(DeviceInfo)}), shared by the process. */
    public static DeviceGemmConfigs standard() { return STANDARD; }

    /** The device's configuration for the portable kernel style, resolved on the first call for this device. */
    public GemmConfig.Choice choice(OpenClDevice device) {
        return byDevice.computeIfAbsent(device, d -> {
            GemmConfig.Choice c = resolver.apply(d.info());
            log.info("int8 GEMM configuration on {} from {} ({})", d.info().name(), c.source().label(), c.origin());
            return c;
        });
    }
}
