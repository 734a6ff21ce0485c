package dev.offload.testing;

import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import java.util.Set;

/** A device's report turned into a GPU's, for the per-device-type choices (no GPU is needed to check them). */
public final class AsGpu {
    private AsGpu() {}

    /** This device as a GPU would report itself: type GPU, a driver no tuning entry names, 48 KiB of local memory, these extensions. */
    public static DeviceInfo of(DeviceInfo i, Set<String> extensions) {
        return new DeviceInfo(DeviceType.GPU, i.name(), i.vendor(), "test-gpu-driver", i.deviceVersion(), i.openclCVersion(),
                i.computeUnits(), i.maxClockMhz(), i.globalMemBytes(), 48 * 1024, i.constantMemBytes(), i.maxAllocBytes(),
                i.maxWorkGroupSize(), i.maxWorkItemSizes(), i.preferredVectorWidthChar(), i.preferredVectorWidthInt(),
                i.preferredVectorWidthFloat(), i.fp16(), i.fp64(), i.dotProduct(), i.armDotProductInt8(), i.maxSubGroups(),
                i.baseAddressAlignBytes(), extensions);
    }
}
