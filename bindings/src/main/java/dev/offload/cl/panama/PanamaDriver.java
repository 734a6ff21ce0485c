package dev.offload.cl.panama;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.offload.cl.ClError;
import dev.offload.cl.ClException;
import dev.offload.cl.OpenClUnavailableException;
import dev.offload.cl.panama.gen.CL;
import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;
import dev.offload.cl.spi.NativeHandle.Kind;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.util.ArrayList;
import java.util.List;

/**
 * The Panama binding: downcalls through the jextract-generated {@link CL} class. Every call's
 * temporary native memory (out-parameters, argument arrays) lives in a confined arena that closes
 * before the method returns, so nothing outlives the call.
 */
public final class PanamaDriver implements ClDriver {
    /** The ICD loader's runtime name; {@code libOpenCL.so} only exists with the -dev package. */
    public static final String LIBRARY = "libOpenCL.so.1";

    /** An OpenCL object's address tagged with what it is. */
    record PanamaHandle(Kind kind, MemorySegment address) implements NativeHandle {}

    private final PanamaCommandBuffers commandBuffers = new PanamaCommandBuffers();

    private PanamaDriver() {}

    /** Checks that the library loads before the generated class's static initializer would fail on it. */
    public static PanamaDriver open() {
        try (Arena probe = Arena.ofConfined()) {
            SymbolLookup.libraryLookup(LIBRARY, probe);
        } catch (IllegalArgumentException e) {
            throw new OpenClUnavailableException("the OpenCL ICD loader " + LIBRARY + " cannot be loaded", e);
        }
        try {
            CL.CL_SUCCESS(); // initializes the generated class now
        } catch (ExceptionInInitializerError | NoClassDefFoundError e) {
            throw new OpenClUnavailableException("the OpenCL bindings failed to initialize: " + e, e);
        }
        return new PanamaDriver();
    }

    @Override public String name() { return "panama"; }

    private static void check(String call, int code) {
        if (code != CL.CL_SUCCESS()) throw new ClException(call, code);
    }

    private static MemorySegment addr(NativeHandle h) { return ((PanamaHandle) h).address(); }

    private static NativeHandle handle(Kind kind, MemorySegment address) { return new PanamaHandle(kind, address); }

    /** An array of handles (cl_event*, cl_device_id*), or NULL for an empty list. */
    private static MemorySegment handleArray(Arena arena, List<NativeHandle> hs) {
        if (hs == null || hs.isEmpty()) return MemorySegment.NULL;
        MemorySegment a = arena.allocate(ADDRESS, hs.size());
        for (int i = 0; i < hs.size(); i++) a.setAtIndex(ADDRESS, i, addr(hs.get(i)));
        return a;
    }

    private static int count(List<NativeHandle> hs) { return hs == null ? 0 : hs.size(); }

    /** The two-call pattern of clGet*Info: ask the size, then the bytes. */
    private interface InfoCall { int call(long size, MemorySegment value, MemorySegment sizeRet); }

    private static byte[] info(String call, InfoCall f) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            check(call, f.call(0, MemorySegment.NULL, size));
            long n = size.get(JAVA_LONG, 0);
            if (n == 0) return new byte[0];
            MemorySegment value = arena.allocate(n);
            check(call, f.call(n, value, MemorySegment.NULL));
            return value.toArray(JAVA_BYTE);
        }
    }

    /** Runs a create call with an errcode_ret out-parameter and checks it. */
    private interface CreateCall { MemorySegment call(Arena arena, MemorySegment errcode); }

    private static NativeHandle create(String call, Kind kind, CreateCall f) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment result = f.call(arena, err);
            check(call, err.get(JAVA_INT, 0));
            return handle(kind, result);
        }
    }

    /** Runs an enqueue call that returns its event through an out-parameter. */
    private interface EnqueueCall { int call(Arena arena, MemorySegment eventOut); }

    private static NativeHandle enqueue(String call, EnqueueCall f) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(ADDRESS);
            check(call, f.call(arena, event));
            return handle(Kind.EVENT, event.get(ADDRESS, 0));
        }
    }

    /** One of OpenCL's two-call listings (clGetPlatformIDs, clGetDeviceIDs): entries, array, count. */
    private interface IdQuery { int call(int entries, MemorySegment ids, MemorySegment count); }

    /** Asks for the count, then for that many ids; {@code none} is the code that means "there are none". */
    private static List<NativeHandle> list(String call, int none, Kind kind, IdQuery query) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocate(JAVA_INT);
            int rc = query.call(0, MemorySegment.NULL, n);
            if (rc == none || (rc == CL.CL_SUCCESS() && n.get(JAVA_INT, 0) == 0)) return List.of();
            check(call, rc);
            int count = n.get(JAVA_INT, 0);
            MemorySegment ids = arena.allocate(ADDRESS, count);
            check(call, query.call(count, ids, MemorySegment.NULL));
            List<NativeHandle> out = new ArrayList<>();
            for (int i = 0; i < count; i++) out.add(handle(kind, ids.getAtIndex(ADDRESS, i)));
            return out;
        }
    }

    @Override
    public List<NativeHandle> platforms() {
        return list("clGetPlatformIDs", ClError.CL_PLATFORM_NOT_FOUND_KHR, Kind.PLATFORM, CL::clGetPlatformIDs);
    }

    @Override
    public byte[] platformInfo(NativeHandle platform, int param) {
        return info("clGetPlatformInfo", (s, v, r) -> CL.clGetPlatformInfo(addr(platform), param, s, v, r));
    }

    @Override
    public List<NativeHandle> devices(NativeHandle platform, long deviceType) {
        return list("clGetDeviceIDs", ClError.CL_DEVICE_NOT_FOUND, Kind.DEVICE,
                (entries, ids, count) -> CL.clGetDeviceIDs(addr(platform), deviceType, entries, ids, count));
    }

    @Override
    public byte[] deviceInfo(NativeHandle device, int param) {
        return info("clGetDeviceInfo", (s, v, r) -> CL.clGetDeviceInfo(addr(device), param, s, v, r));
    }

    @Override
    public NativeHandle createContext(List<NativeHandle> devices) {
        return create("clCreateContext", Kind.CONTEXT, (arena, err) -> CL.clCreateContext(MemorySegment.NULL,
                devices.size(), handleArray(arena, devices), MemorySegment.NULL, MemorySegment.NULL, err));
    }

    @Override
    public NativeHandle createQueue(NativeHandle context, NativeHandle device, long properties) {
        return create("clCreateCommandQueueWithProperties", Kind.QUEUE, (arena, err) -> {
            // A zero-terminated list of 64-bit (cl_queue_properties) key/value pairs.
            MemorySegment props = arena.allocateFrom(JAVA_LONG, CL.CL_QUEUE_PROPERTIES(), properties, 0L);
            return CL.clCreateCommandQueueWithProperties(addr(context), addr(device), props, err);
        });
    }

    @Override
    public NativeHandle createBuffer(NativeHandle context, long flags, long size) {
        return create("clCreateBuffer", Kind.BUFFER,
                (arena, err) -> CL.clCreateBuffer(addr(context), flags, size, MemorySegment.NULL, err));
    }

    @Override
    public NativeHandle createBuffer(NativeHandle context, long flags, MemorySegment hostData) {
        return create("clCreateBuffer", Kind.BUFFER, (arena, err) ->
                CL.clCreateBuffer(addr(context), flags | CL.CL_MEM_COPY_HOST_PTR(), hostData.byteSize(), hostData, err));
    }

    @Override
    public NativeHandle createSubBuffer(NativeHandle buffer, long flags, long origin, long size) {
        return create("clCreateSubBuffer", Kind.BUFFER, (arena, err) -> CL.clCreateSubBuffer(addr(buffer), flags,
                CL.CL_BUFFER_CREATE_TYPE_REGION(), arena.allocateFrom(JAVA_LONG, origin, size), err));
    }

    @Override
    public NativeHandle createProgramWithSource(NativeHandle context, String source) {
        return create("clCreateProgramWithSource", Kind.PROGRAM, (arena, err) -> {
            MemorySegment strings = arena.allocateFrom(ADDRESS, arena.allocateFrom(source));
            return CL.clCreateProgramWithSource(addr(context), 1, strings, MemorySegment.NULL, err);
        });
    }

    @Override
    public NativeHandle createProgramWithBinary(NativeHandle context, NativeHandle device, byte[] binary) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment status = arena.allocate(JAVA_INT);
            MemorySegment bytes = arena.allocateFrom(JAVA_BYTE, binary);
            MemorySegment program = CL.clCreateProgramWithBinary(addr(context), 1,
                    arena.allocateFrom(ADDRESS, addr(device)), arena.allocateFrom(JAVA_LONG, (long) binary.length),
                    arena.allocateFrom(ADDRESS, bytes), status, err);
            check("clCreateProgramWithBinary", err.get(JAVA_INT, 0));
            check("clCreateProgramWithBinary", status.get(JAVA_INT, 0));
            return handle(Kind.PROGRAM, program);
        }
    }

    @Override
    public void buildProgram(NativeHandle program, NativeHandle device, String options) {
        try (Arena arena = Arena.ofConfined()) {
            check("clBuildProgram", CL.clBuildProgram(addr(program), 1, arena.allocateFrom(ADDRESS, addr(device)),
                    arena.allocateFrom(options), MemorySegment.NULL, MemorySegment.NULL));
        }
    }

    @Override
    public byte[] programInfo(NativeHandle program, int param) {
        return info("clGetProgramInfo", (s, v, r) -> CL.clGetProgramInfo(addr(program), param, s, v, r));
    }

    @Override
    public byte[] programBinary(NativeHandle program) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            check("clGetProgramInfo", CL.clGetProgramInfo(addr(program), CL.CL_PROGRAM_BINARY_SIZES(),
                    JAVA_LONG.byteSize(), size, MemorySegment.NULL));
            long n = size.get(JAVA_LONG, 0);
            MemorySegment binary = arena.allocate(Math.max(n, 1));
            MemorySegment pointers = arena.allocateFrom(ADDRESS, binary);
            check("clGetProgramInfo", CL.clGetProgramInfo(addr(program), CL.CL_PROGRAM_BINARIES(),
                    ADDRESS.byteSize(), pointers, MemorySegment.NULL));
            return binary.asSlice(0, n).toArray(JAVA_BYTE);
        }
    }

    @Override
    public byte[] programBuildInfo(NativeHandle program, NativeHandle device, int param) {
        return info("clGetProgramBuildInfo",
                (s, v, r) -> CL.clGetProgramBuildInfo(addr(program), addr(device), param, s, v, r));
    }

    @Override
    public NativeHandle createKernel(NativeHandle program, String name) {
        return create("clCreateKernel", Kind.KERNEL,
                (arena, err) -> CL.clCreateKernel(addr(program), arena.allocateFrom(name), err));
    }

    @Override
    public byte[] kernelInfo(NativeHandle kernel, int param) {
        return info("clGetKernelInfo", (s, v, r) -> CL.clGetKernelInfo(addr(kernel), param, s, v, r));
    }

    @Override
    public byte[] kernelArgInfo(NativeHandle kernel, int index, int param) {
        return info("clGetKernelArgInfo", (s, v, r) -> CL.clGetKernelArgInfo(addr(kernel), index, param, s, v, r));
    }

    @Override
    public byte[] kernelWorkGroupInfo(NativeHandle kernel, NativeHandle device, int param) {
        return info("clGetKernelWorkGroupInfo",
                (s, v, r) -> CL.clGetKernelWorkGroupInfo(addr(kernel), addr(device), param, s, v, r));
    }

    @Override
    public void setKernelArgBuffer(NativeHandle kernel, int index, NativeHandle buffer) {
        try (Arena arena = Arena.ofConfined()) {
            check("clSetKernelArg", CL.clSetKernelArg(addr(kernel), index, ADDRESS.byteSize(),
                    arena.allocateFrom(ADDRESS, addr(buffer))));
        }
    }

    @Override
    public void setKernelArgValue(NativeHandle kernel, int index, byte[] value) {
        try (Arena arena = Arena.ofConfined()) {
            check("clSetKernelArg", CL.clSetKernelArg(addr(kernel), index, value.length,
                    arena.allocateFrom(JAVA_BYTE, value)));
        }
    }

    @Override
    public void setKernelArgLocal(NativeHandle kernel, int index, long size) {
        check("clSetKernelArg", CL.clSetKernelArg(addr(kernel), index, size, MemorySegment.NULL));
    }

    @Override
    public NativeHandle enqueueNDRange(NativeHandle queue, NativeHandle kernel, long[] global, long[] local,
                                       List<NativeHandle> waitFor) {
        return enqueue("clEnqueueNDRangeKernel", (arena, event) -> CL.clEnqueueNDRangeKernel(addr(queue),
                addr(kernel), global.length, MemorySegment.NULL, arena.allocateFrom(JAVA_LONG, global),
                local == null ? MemorySegment.NULL : arena.allocateFrom(JAVA_LONG, local),
                count(waitFor), handleArray(arena, waitFor), event));
    }

    private static MemorySegment host(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("transfers need native host memory (an arena's segment)");
        }
        return segment;
    }

    @Override
    public NativeHandle enqueueWrite(NativeHandle queue, NativeHandle buffer, boolean blocking, long offset,
                                     MemorySegment source, List<NativeHandle> waitFor) {
        return enqueue("clEnqueueWriteBuffer", (arena, event) -> CL.clEnqueueWriteBuffer(addr(queue), addr(buffer),
                blocking ? CL.CL_TRUE() : CL.CL_FALSE(), offset, source.byteSize(), host(source),
                count(waitFor), handleArray(arena, waitFor), event));
    }

    @Override
    public NativeHandle enqueueRead(NativeHandle queue, NativeHandle buffer, boolean blocking, long offset,
                                    MemorySegment target, List<NativeHandle> waitFor) {
        return enqueue("clEnqueueReadBuffer", (arena, event) -> CL.clEnqueueReadBuffer(addr(queue), addr(buffer),
                blocking ? CL.CL_TRUE() : CL.CL_FALSE(), offset, target.byteSize(), host(target),
                count(waitFor), handleArray(arena, waitFor), event));
    }

    @Override
    public NativeHandle enqueueFill(NativeHandle queue, NativeHandle buffer, byte[] pattern, long offset, long size,
                                    List<NativeHandle> waitFor) {
        return enqueue("clEnqueueFillBuffer", (arena, event) -> CL.clEnqueueFillBuffer(addr(queue), addr(buffer),
                arena.allocateFrom(JAVA_BYTE, pattern), pattern.length, offset, size,
                count(waitFor), handleArray(arena, waitFor), event));
    }

    @Override
    public NativeHandle enqueueCopy(NativeHandle queue, NativeHandle source, NativeHandle target, long sourceOffset,
                                    long targetOffset, long size, List<NativeHandle> waitFor) {
        return enqueue("clEnqueueCopyBuffer", (arena, event) -> CL.clEnqueueCopyBuffer(addr(queue), addr(source),
                addr(target), sourceOffset, targetOffset, size, count(waitFor), handleArray(arena, waitFor), event));
    }

    @Override
    public NativeHandle enqueueMarker(NativeHandle queue, List<NativeHandle> waitFor) {
        return enqueue("clEnqueueMarkerWithWaitList", (arena, event) -> CL.clEnqueueMarkerWithWaitList(addr(queue),
                count(waitFor), handleArray(arena, waitFor), event));
    }

    @Override public void flush(NativeHandle queue) { check("clFlush", CL.clFlush(addr(queue))); }

    @Override public void finish(NativeHandle queue) { check("clFinish", CL.clFinish(addr(queue))); }

    @Override
    public void waitForEvents(List<NativeHandle> events) {
        try (Arena arena = Arena.ofConfined()) {
            int rc = CL.clWaitForEvents(events.size(), handleArray(arena, events));
            // A failed command makes clWaitForEvents report it; the caller reads the status for the detail.
            if (rc != CL.CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST()) check("clWaitForEvents", rc);
        }
    }

    @Override
    public int eventStatus(NativeHandle event) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(JAVA_INT);
            check("clGetEventInfo", CL.clGetEventInfo(addr(event), CL.CL_EVENT_COMMAND_EXECUTION_STATUS(),
                    JAVA_INT.byteSize(), status, MemorySegment.NULL));
            return status.get(JAVA_INT, 0);
        }
    }

    @Override
    public long eventProfilingInfo(NativeHandle event, int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment t = arena.allocate(JAVA_LONG);
            check("clGetEventProfilingInfo", CL.clGetEventProfilingInfo(addr(event), param, JAVA_LONG.byteSize(), t,
                    MemorySegment.NULL));
            return t.get(JAVA_LONG, 0);
        }
    }

    @Override
    public String commandBuffersUnsupported(NativeHandle platform) { return commandBuffers.unsupported(addr(platform)); }

    @Override
    public NativeHandle createCommandBuffer(NativeHandle platform, NativeHandle queue) {
        return commandBuffers.create(addr(platform), addr(queue));
    }

    @Override
    public NativeHandle cloneKernel(NativeHandle kernel) { return handle(Kind.KERNEL, commandBuffers.cloneKernel(addr(kernel))); }

    @Override
    public int commandNDRangeKernel(NativeHandle commandBuffer, NativeHandle kernel, long[] global, long[] local, int[] waitFor) {
        return commandBuffers.ndRange(commandBuffer, addr(kernel), global, local, waitFor);
    }

    @Override
    public int commandCopyBuffer(NativeHandle commandBuffer, NativeHandle source, NativeHandle target, long sourceOffset,
                                 long targetOffset, long size, int[] waitFor) {
        return commandBuffers.copy(commandBuffer, addr(source), addr(target), sourceOffset, targetOffset, size, waitFor);
    }

    @Override
    public void finalizeCommandBuffer(NativeHandle commandBuffer) { commandBuffers.finalizeBuffer(commandBuffer); }

    @Override
    public NativeHandle enqueueCommandBuffer(NativeHandle queue, NativeHandle commandBuffer, List<NativeHandle> waitFor) {
        return enqueue("clEnqueueCommandBufferKHR",
                (arena, event) -> commandBuffers.enqueue(commandBuffer, count(waitFor), handleArray(arena, waitFor), event));
    }

    @Override
    public void release(NativeHandle handle) {
        if (handle.kind() == Kind.COMMAND_BUFFER) {
            check("clReleaseCommandBufferKHR", commandBuffers.release(handle));
            return;
        }
        MemorySegment a = addr(handle);
        int rc = switch (handle.kind()) {
            case CONTEXT -> CL.clReleaseContext(a);
            case QUEUE -> CL.clReleaseCommandQueue(a);
            case BUFFER -> CL.clReleaseMemObject(a);
            case PROGRAM -> CL.clReleaseProgram(a);
            case KERNEL -> CL.clReleaseKernel(a);
            case EVENT -> CL.clReleaseEvent(a);
            case PLATFORM, DEVICE -> CL.CL_SUCCESS(); // root devices and platforms are not reference counted
            case COMMAND_BUFFER -> throw new IllegalStateException("unreachable: released above");
        };
        check("clRelease" + handle.kind(), rc);
    }
}
