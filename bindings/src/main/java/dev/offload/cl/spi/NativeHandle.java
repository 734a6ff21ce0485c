package dev.offload.cl.spi;

/**
 * An opaque OpenCL object owned by one binding. The host never sees what is inside; the API classes
 * in {@code dev.offload.cl} hold handles and hand them back to the binding that made them.
 */
public interface NativeHandle {
    /** What kind of OpenCL object this is, so that {@link ClDriver#release} knows which release call to make. */
    Kind kind();

    enum Kind { PLATFORM, DEVICE, CONTEXT, QUEUE, BUFFER, PROGRAM, KERNEL, EVENT, COMMAND_BUFFER }
}
