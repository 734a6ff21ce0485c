package dev.offload.device;

/**
 * Where an op runs: the pure-Java reference ({@link JavaDevice}) or one OpenCL device
 * ({@link OpenClDevice}). Every op has an implementation for both.
 */
public sealed interface ComputeDevice extends AutoCloseable permits JavaDevice, OpenClDevice {
    /** The selection spec that names this device ({@code java}, {@code cl:0:0}). */
    String spec();

    /** A one-line description for logs and tables. */
    String description();

    @Override
    void close();
}
