package dev.offload.testing;

import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;

/** A device's report with another type, vendor or driver: for the per-device choices, checked without that device. */
public final class DeviceInfos {
    private DeviceInfos() {}

    /** {@code i} as reported by a device of {@code type} from {@code vendor} through driver {@code driver}. */
    public static DeviceInfo as(DeviceInfo i, DeviceType type, String vendor, String driver) {
        return new DeviceInfo(type, i.name(), vendor, driver, i.deviceVersion(), i.openclCVersion(), i.computeUnits(),
                i.maxClockMhz(), i.globalMemBytes(), i.localMemBytes(), i.constantMemBytes(), i.maxAllocBytes(),
                i.maxWorkGroupSize(), i.maxWorkItemSizes(), i.preferredVectorWidthChar(), i.preferredVectorWidthInt(),
                i.preferredVectorWidthFloat(), i.fp16(), i.fp64(), i.dotProduct(), i.armDotProductInt8(), i.maxSubGroups(),
                i.baseAddressAlignBytes(), i.extensions());
    }
}
