package dev.offload.cl;

import java.util.List;
import java.util.Set;

/**
 * What a device reports about itself, read once when the platform is enumerated.
 *
 * @param dotProduct integer dot product support; null when the device reports none
 */
public record DeviceInfo(
        DeviceType type,
        String name,
        String vendor,
        String driverVersion,
        String deviceVersion,
        String openclCVersion,
        int computeUnits,
        int maxClockMhz,
        long globalMemBytes,
        long localMemBytes,
        long constantMemBytes,
        long maxAllocBytes,
        long maxWorkGroupSize,
        List<Long> maxWorkItemSizes,
        int preferredVectorWidthChar,
        int preferredVectorWidthInt,
        int preferredVectorWidthFloat,
        boolean fp16,
        boolean fp64,
        IntegerDotProduct dotProduct,
        boolean armDotProductInt8,
        int maxSubGroups,
        long baseAddressAlignBytes,
        Set<String> extensions) {

    public boolean hasExtension(String name) { return extensions.contains(name); }

    /**
     * {@code cl_khr_integer_dot_product}: which input forms exist and which are accelerated
     * (i.e. map to a hardware instruction rather than emulation).
     */
    public record IntegerDotProduct(
            boolean input4x8Bit,
            boolean input4x8BitPacked,
            Acceleration eightBit,
            Acceleration fourByEightBitPacked) {}

    /** One of the acceleration-properties structs of cl_khr_integer_dot_product (six cl_bool fields). */
    public record Acceleration(boolean signed, boolean unsigned, boolean mixedSignedness,
                               boolean accumulatingSaturatingSigned, boolean accumulatingSaturatingUnsigned,
                               boolean accumulatingSaturatingMixedSignedness) {
        static Acceleration of(byte[] b) {
            if (b == null || b.length < 24) return null;
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.nativeOrder());
            return new Acceleration(bb.getInt(0) != 0, bb.getInt(4) != 0, bb.getInt(8) != 0,
                    bb.getInt(12) != 0, bb.getInt(16) != 0, bb.getInt(20) != 0);
        }

        public boolean any() {
            return signed || unsigned || mixedSignedness;
        }
    }
}
