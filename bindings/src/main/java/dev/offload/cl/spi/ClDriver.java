package dev.offload.cl.spi;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The thin layer a binding implements: one method per OpenCL entry point the runtime uses, with
 * handles kept opaque. Info queries return the raw bytes of the answer (native byte order) so that
 * their decoding lives once, in {@code dev.offload.cl}, for both bindings.
 *
 * <p>Every method throws {@link dev.offload.cl.ClException} when the OpenCL call fails.
 * Host memory passed to transfers must be native ({@link MemorySegment#isNative()}) and, for
 * non-blocking transfers, stay alive until the returned event completes.
 */
public interface ClDriver {
    /** "panama" or "jocl". */
    String name();

    /** All platforms; empty when the ICD loader finds none (CL_PLATFORM_NOT_FOUND_KHR). */
    List<NativeHandle> platforms();

    byte[] platformInfo(NativeHandle platform, int param);

    /** Devices of the given type bits (unsigned); empty when CL_DEVICE_NOT_FOUND. */
    List<NativeHandle> devices(NativeHandle platform, long deviceType);

    byte[] deviceInfo(NativeHandle device, int param);

    NativeHandle createContext(List<NativeHandle> devices);

    /** A queue with the given CL_QUEUE_PROPERTIES bits (e.g. profiling). */
    NativeHandle createQueue(NativeHandle context, NativeHandle device, long properties);

    NativeHandle createBuffer(NativeHandle context, long flags, long size);

    /** A buffer initialized from host memory at creation (CL_MEM_COPY_HOST_PTR): no queue is involved. */
    NativeHandle createBuffer(NativeHandle context, long flags, java.lang.foreign.MemorySegment hostData);

    /** A sub-buffer (CL_BUFFER_CREATE_TYPE_REGION) of {@code size} bytes at {@code origin}; origin must be aligned. */
    NativeHandle createSubBuffer(NativeHandle buffer, long flags, long origin, long size);

    NativeHandle createProgramWithSource(NativeHandle context, String source);

    NativeHandle createProgramWithBinary(NativeHandle context, NativeHandle device, byte[] binary);

    /** Builds for one device; throws ClException (without the log; the caller fetches it). */
    void buildProgram(NativeHandle program, NativeHandle device, String options);

    byte[] programInfo(NativeHandle program, int param);

    /** CL_PROGRAM_BINARIES for a program built for exactly one device. */
    byte[] programBinary(NativeHandle program);

    byte[] programBuildInfo(NativeHandle program, NativeHandle device, int param);

    NativeHandle createKernel(NativeHandle program, String name);

    byte[] kernelInfo(NativeHandle kernel, int param);

    byte[] kernelArgInfo(NativeHandle kernel, int index, int param);

    byte[] kernelWorkGroupInfo(NativeHandle kernel, NativeHandle device, int param);

    void setKernelArgBuffer(NativeHandle kernel, int index, NativeHandle buffer);

    /** A by-value argument given as its bytes in native order. */
    void setKernelArgValue(NativeHandle kernel, int index, byte[] value);

    /** A __local argument of the given size in bytes. */
    void setKernelArgLocal(NativeHandle kernel, int index, long size);

    /** @param local null lets the implementation choose the work-group size */
    NativeHandle enqueueNDRange(NativeHandle queue, NativeHandle kernel, long[] global, long[] local,
                                List<NativeHandle> waitFor);

    NativeHandle enqueueWrite(NativeHandle queue, NativeHandle buffer, boolean blocking, long offset,
                              MemorySegment source, List<NativeHandle> waitFor);

    NativeHandle enqueueRead(NativeHandle queue, NativeHandle buffer, boolean blocking, long offset,
                             MemorySegment target, List<NativeHandle> waitFor);

    NativeHandle enqueueFill(NativeHandle queue, NativeHandle buffer, byte[] pattern, long offset, long size,
                             List<NativeHandle> waitFor);

    NativeHandle enqueueCopy(NativeHandle queue, NativeHandle source, NativeHandle target, long sourceOffset,
                             long targetOffset, long size, List<NativeHandle> waitFor);

    /** A marker that completes when all listed events (or all earlier commands, if none) complete. */
    NativeHandle enqueueMarker(NativeHandle queue, List<NativeHandle> waitFor);

    void flush(NativeHandle queue);

    void finish(NativeHandle queue);

    void waitForEvents(List<NativeHandle> events);

    /** CL_EVENT_COMMAND_EXECUTION_STATUS: CL_COMPLETE (0) or a negative error when the command failed. */
    int eventStatus(NativeHandle event);

    /** A CL_PROFILING_COMMAND_* time in nanoseconds. */
    long eventProfilingInfo(NativeHandle event, int param);

    // cl_khr_command_buffer (0.9.0): commands recorded once and enqueued as one. Extension entry points, looked up per
    // platform (clGetExtensionFunctionAddressForPlatform); a binding that cannot reach them says so here.

    /**
     * Why this binding cannot record command buffers on the platform (its extension entry points do not resolve, or
     * the binding has no way to call them), or null when it can. The device must also report the extension.
     */
    String commandBuffersUnsupported(NativeHandle platform);

    /** A command buffer recording for one in-order queue. */
    NativeHandle createCommandBuffer(NativeHandle platform, NativeHandle queue);

    /**
     * A copy of the kernel with its arguments as set now (clCloneKernel). Recording needs one per command: PoCL 3.1
     * reads a recorded kernel's arguments when the command buffer runs, not when it was recorded.
     */
    NativeHandle cloneKernel(NativeHandle kernel);

    /**
     * Records a kernel (give it a {@link #cloneKernel} nobody changes: drivers differ on when they read its arguments);
     * waits for the listed sync points and returns the command's own.
     *
     * @param local null lets the implementation choose the work-group size
     */
    int commandNDRangeKernel(NativeHandle commandBuffer, NativeHandle kernel, long[] global, long[] local, int[] waitFor);

    /** Records a buffer-to-buffer copy; waits for the listed sync points and returns the command's own. */
    int commandCopyBuffer(NativeHandle commandBuffer, NativeHandle source, NativeHandle target, long sourceOffset,
                          long targetOffset, long size, int[] waitFor);

    /** Ends recording: the command buffer can be enqueued from now on, and recorded into no more. */
    void finalizeCommandBuffer(NativeHandle commandBuffer);

    /** Enqueues a finalized command buffer on the queue it was recorded for. */
    NativeHandle enqueueCommandBuffer(NativeHandle queue, NativeHandle commandBuffer, List<NativeHandle> waitFor);

    /** Releases the OpenCL object (clRelease* by kind). Devices and platforms are not released. */
    void release(NativeHandle handle);
}
