package dev.offload.bitstream;

/**
 * A device that never compiles OpenCL source (an ACCELERATOR) has no stored bitstream for a family.
 * The message names the family, its kernels, the device and the commands that build or import one.
 */
public final class BitstreamMissingException extends RuntimeException {
    public BitstreamMissingException(String message) { super(message); }
}
