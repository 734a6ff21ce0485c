package dev.offload.cl;

import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;
import java.util.ArrayList;
import java.util.List;

/** An OpenCL platform (one vendor's driver) and its devices. */
public final class Platform {
    final NativeHandle handle;
    private final int index;
    private final String name;
    private final String vendor;
    private final String version;
    private final String extensions;
    private final List<Device> devices;

    Platform(ClDriver driver, NativeHandle handle, int index) {
        this.handle = handle;
        this.index = index;
        this.name = InfoBytes.string(driver.platformInfo(handle, Cl.PLATFORM_NAME));
        this.vendor = InfoBytes.string(driver.platformInfo(handle, Cl.PLATFORM_VENDOR));
        this.version = InfoBytes.string(driver.platformInfo(handle, Cl.PLATFORM_VERSION));
        this.extensions = InfoBytes.string(driver.platformInfo(handle, Cl.PLATFORM_EXTENSIONS));
        List<Device> ds = new ArrayList<>();
        List<NativeHandle> dh = driver.devices(handle, Cl.DEVICE_TYPE_ALL);
        for (int i = 0; i < dh.size(); i++) ds.add(new Device(driver, dh.get(i), this, i));
        this.devices = List.copyOf(ds);
    }

    public int index() { return index; }
    public String name() { return name; }
    public String vendor() { return vendor; }
    public String version() { return version; }
    public String extensions() { return extensions; }
    public List<Device> devices() { return devices; }

    @Override public String toString() { return name + " (" + vendor + ", " + version + ")"; }
}
