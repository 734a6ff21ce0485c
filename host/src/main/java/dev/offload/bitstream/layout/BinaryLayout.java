package dev.offload.bitstream.layout;

import java.util.Optional;

/**
 * Whether a program binary's bytes are sound for their format, checked before any driver sees them: drivers parse
 * binaries trusting their length fields, and PoCL aborts the process on a truncated one. A checksum only proves the
 * bytes are the ones the manifest describes, not that they were whole when it was written.
 *
 * <ul>
 *   <li>{@code xclbin}: XRT's axlf container ({@link XclbinLayout});</li>
 *   <li>{@code aocx}: an ELF file ({@link ElfLayout});</li>
 *   <li>{@code opencl-binary}: by its magic, a PoCL binary ({@link PoclBinaryLayout}), an ELF file or an xclbin; other
 *       vendors' layouts are not published, so those binaries get the checksum only. For a PoCL platform it must
 *       be a PoCL binary.</li>
 * </ul>
 */
public final class BinaryLayout {
    private BinaryLayout() {}

    /** The platform name PoCL reports (CL_PLATFORM_NAME). */
    public static final String POCL_PLATFORM = "Portable Computing Language";

    /**
     * What is wrong with the binary, or empty when its layout is sound (or, for an unpublished vendor layout, unknown).
     *
     * @param format       the manifest's {@code binary.format}: opencl-binary, aocx or xclbin
     * @param platformName the target platform's name (null: unknown)
     */
    public static Optional<String> problem(byte[] binary, String format, String platformName) {
        if (binary == null || binary.length == 0) return Optional.of("the binary is empty");
        try {
            switch (format == null ? "opencl-binary" : format) {
                case "xclbin" -> XclbinLayout.check(binary);
                case "aocx" -> ElfLayout.check(binary);
                default -> {
                    boolean pocl = platformName != null && platformName.contains(POCL_PLATFORM);
                    if (PoclBinaryLayout.isPocl(binary)) PoclBinaryLayout.check(binary);
                    else if (pocl) throw new LayoutException("not a PoCL binary (no poclbin magic), yet its platform is PoCL");
                    else if (ElfLayout.isElf(binary)) ElfLayout.check(binary);
                    else if (XclbinLayout.isXclbin(binary)) XclbinLayout.check(binary);
                }
            }
            return Optional.empty();
        } catch (LayoutException e) {
            return Optional.of(e.getMessage());
        }
    }
}
