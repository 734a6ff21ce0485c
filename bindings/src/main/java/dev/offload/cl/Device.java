package dev.offload.cl;

import dev.offload.hash.Sha256;
import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** One OpenCL device. Its properties are read once ({@link #info()}); contexts are made with {@link Context#create}. */
public final class Device {
    final ClDriver driver;
    final NativeHandle handle;
    private final Platform platform;
    private final int index;
    private final DeviceInfo info;

    Device(ClDriver driver, NativeHandle handle, Platform platform, int index) {
        this.driver = driver;
        this.handle = handle;
        this.platform = platform;
        this.index = index;
        this.info = readInfo();
    }

    public Platform platform() { return platform; }

    /** The device's position within its platform. */
    public int index() { return index; }

    public DeviceInfo info() { return info; }

    public String name() { return info.name(); }

    /** The OpenCL extension that records commands once and enqueues them as one ({@link CommandBuffer}). */
    public static final String COMMAND_BUFFER_EXTENSION = "cl_khr_command_buffer";

    /**
     * Why {@link CommandBuffer}s cannot be recorded on this device (it does not report {@value #COMMAND_BUFFER_EXTENSION},
     * or the binding cannot reach the extension's entry points), or null when they can.
     */
    public String commandBuffersUnsupported() {
        if (!info.hasExtension(COMMAND_BUFFER_EXTENSION)) return "the device does not report " + COMMAND_BUFFER_EXTENSION;
        String why = driver.commandBuffersUnsupported(platform.handle);
        return why == null ? null : why + " (" + driver.name() + " binding)";
    }

    /** The binding this device was reached through. */
    public String bindingName() { return driver.name(); }

    /** {@code cl:<platform index>:<device index>}, the selection syntax's positional form. */
    public String spec() { return "cl:" + platform.index() + ":" + index; }

    /**
     * A stable identifier: a hash of platform, device name, vendor and driver version plus the index,
     * the same across runs and across bindings. Caches (tuning, program binaries) are keyed by it.
     */
    public String stableId() {
        String key = String.join("\u0000", platform.name(), platform.vendor(), info.name(), info.vendor(),
                info.driverVersion(), Integer.toString(index));
        return Sha256.of(key).substring(0, 12);
    }

    private byte[] query(int param) { return driver.deviceInfo(handle, param); }

    /** For optional properties a device may not know (extensions it lacks): null instead of an error. */
    private byte[] queryOptional(int param) {
        try {
            return driver.deviceInfo(handle, param);
        } catch (ClException e) {
            return null;
        }
    }

    private DeviceInfo readInfo() {
        Set<String> ext = new LinkedHashSet<>(
                Arrays.asList(InfoBytes.string(query(Cl.DEVICE_EXTENSIONS)).split("\\s+")));
        ext.remove("");
        DeviceInfo.IntegerDotProduct dot = null;
        if (ext.contains("cl_khr_integer_dot_product")) {
            byte[] caps = queryOptional(Cl.DEVICE_INTEGER_DOT_PRODUCT_CAPABILITIES_KHR);
            long bits = caps == null ? 0 : (caps.length >= 8 ? InfoBytes.u64(caps) : InfoBytes.u32(caps));
            dot = new DeviceInfo.IntegerDotProduct(
                    (bits & 2) != 0, (bits & 1) != 0,
                    DeviceInfo.Acceleration.of(queryOptional(Cl.DEVICE_INTEGER_DOT_PRODUCT_ACCELERATION_PROPERTIES_8BIT_KHR)),
                    DeviceInfo.Acceleration.of(queryOptional(Cl.DEVICE_INTEGER_DOT_PRODUCT_ACCELERATION_PROPERTIES_4x8BIT_PACKED_KHR)));
        }
        byte[] half = queryOptional(Cl.DEVICE_HALF_FP_CONFIG);
        byte[] dbl = queryOptional(Cl.DEVICE_DOUBLE_FP_CONFIG);
        byte[] subGroups = queryOptional(Cl.DEVICE_MAX_NUM_SUB_GROUPS);
        long[] itemSizes = InfoBytes.sizeTs(query(Cl.DEVICE_MAX_WORK_ITEM_SIZES));
        return new DeviceInfo(
                DeviceType.of(InfoBytes.u64(query(Cl.DEVICE_TYPE))),
                InfoBytes.string(query(Cl.DEVICE_NAME)),
                InfoBytes.string(query(Cl.DEVICE_VENDOR)),
                InfoBytes.string(query(Cl.DRIVER_VERSION)),
                InfoBytes.string(query(Cl.DEVICE_VERSION)),
                InfoBytes.string(query(Cl.DEVICE_OPENCL_C_VERSION)),
                InfoBytes.u32(query(Cl.DEVICE_MAX_COMPUTE_UNITS)),
                InfoBytes.u32(query(Cl.DEVICE_MAX_CLOCK_FREQUENCY)),
                InfoBytes.u64(query(Cl.DEVICE_GLOBAL_MEM_SIZE)),
                InfoBytes.u64(query(Cl.DEVICE_LOCAL_MEM_SIZE)),
                InfoBytes.u64(query(Cl.DEVICE_MAX_CONSTANT_BUFFER_SIZE)),
                InfoBytes.u64(query(Cl.DEVICE_MAX_MEM_ALLOC_SIZE)),
                InfoBytes.sizeT(query(Cl.DEVICE_MAX_WORK_GROUP_SIZE)),
                Arrays.stream(itemSizes).boxed().toList(),
                InfoBytes.u32(query(Cl.DEVICE_PREFERRED_VECTOR_WIDTH_CHAR)),
                InfoBytes.u32(query(Cl.DEVICE_PREFERRED_VECTOR_WIDTH_INT)),
                InfoBytes.u32(query(Cl.DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT)),
                ext.contains("cl_khr_fp16") || (half != null && InfoBytes.u64(half) != 0),
                ext.contains("cl_khr_fp64") || (dbl != null && InfoBytes.u64(dbl) != 0),
                dot,
                ext.contains("cl_arm_integer_dot_product_int8"),
                subGroups == null ? 0 : InfoBytes.u32(subGroups),
                InfoBytes.u32(query(Cl.DEVICE_MEM_BASE_ADDR_ALIGN)) / 8, // the device reports bits
                java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(ext)));
    }

    @Override public String toString() { return spec() + " " + info.name() + " [" + platform.name() + "]"; }

    List<NativeHandle> handleList() { return List.of(handle); }
}
