package dev.offload.bitstream;

import dev.offload.cl.Device;
import dev.offload.cl.DeviceInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The device a binary was built for, as its manifest records it. Imports of vendor binaries know only what the
 * user tells them (platform and device name at least); fields they do not know are null.
 *
 * @param boardName the FPGA board or shell where the platform reports one (Intel: the part of the device name
 *                  before " : "; Xilinx: the device name, which is the shell), else null
 * @param deviceStableId {@link Device#stableId()} of the device it was built on; null for imports
 */
public record DeviceTarget(
        String platformName,
        String platformVendor,
        String deviceName,
        String deviceVendor,
        String driverVersion,
        String deviceVersion,
        String boardName,
        String deviceStableId) {

    /** What a real device reports about itself. */
    public static DeviceTarget of(Device d) {
        DeviceInfo i = d.info();
        return new DeviceTarget(d.platform().name(), d.platform().vendor(), i.name(), i.vendor(),
                i.driverVersion(), i.deviceVersion(), boardName(d.platform().name(), i.name()), d.stableId());
    }

    static String boardName(String platformName, String deviceName) {
        String p = platformName.toLowerCase(Locale.ROOT);
        if (p.contains("xilinx")) return deviceName;
        if (p.contains("intel(r) fpga") || p.contains("intel fpga") || p.contains("altera")) {
            int colon = deviceName.indexOf(" : ");
            return colon > 0 ? deviceName.substring(0, colon).strip() : deviceName;
        }
        return null;
    }

    /** Whether a binary built for this target is meant for {@code device}: same platform and device name. */
    public boolean names(DeviceTarget device) {
        return platformName.equals(device.platformName) && deviceName.equals(device.deviceName);
    }

    /**
     * Why a binary built for this target may not run on {@code device}; empty when it may. Platform, device name
     * and driver version must be equal (a driver upgrade can change the binary format); a board recorded on
     * both sides must be equal. A null driver version (an import that did not say) matches any driver.
     */
    public List<String> mismatches(DeviceTarget device) {
        List<String> out = new ArrayList<>();
        if (!platformName.equals(device.platformName)) {
            out.add("platform: built for '" + platformName + "', this device's platform is '" + device.platformName + "'");
        }
        if (!deviceName.equals(device.deviceName)) {
            out.add("device name: built for '" + deviceName + "', this device is '" + device.deviceName + "'");
        }
        if (driverVersion != null && !driverVersion.equals(device.driverVersion)) {
            out.add("driver version: built with driver '" + driverVersion + "', this device runs '" + device.driverVersion + "'");
        }
        if (boardName != null && device.boardName != null && !Objects.equals(boardName, device.boardName)) {
            out.add("board: built for '" + boardName + "', this device is on '" + device.boardName + "'");
        }
        return out;
    }

    /** The stable id when known, else the device name made file-name safe. */
    String slug() {
        if (deviceStableId != null) return deviceStableId;
        String s = deviceName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
        return s.length() > 40 ? s.substring(0, 40) : s.isEmpty() ? "device" : s;
    }

    @Override public String toString() { return deviceName + " [" + platformName + (driverVersion == null ? "" : ", driver " + driverVersion) + "]"; }
}
