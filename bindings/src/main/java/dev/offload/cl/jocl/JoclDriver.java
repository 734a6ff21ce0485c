package dev.offload.cl.jocl;

import dev.offload.cl.ClError;
import dev.offload.cl.ClException;
import dev.offload.cl.OpenClUnavailableException;
import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;
import dev.offload.cl.spi.NativeHandle.Kind;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.jocl.CL;
import org.jocl.NativePointerObject;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_event;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;
import org.jocl.cl_queue_properties;

/** The JOCL binding: JNI calls through {@code org.jocl.CL}, with its exceptions off and codes checked here. */
public final class JoclDriver implements ClDriver {

    /** A JOCL object tagged with what it is. */
    record JoclHandle(Kind kind, NativePointerObject object) implements NativeHandle {}

    private JoclDriver() {}

    public static JoclDriver open() {
        try {
            CL.setExceptionsEnabled(false);
            int[] n = new int[1];
            CL.clGetPlatformIDs(0, null, n); // forces the OpenCL library to load now, not on first real use
        } catch (LinkageError | RuntimeException e) {
            throw new OpenClUnavailableException("JOCL cannot load OpenCL (" + e + ")", e);
        }
        return new JoclDriver();
    }

    @Override public String name() { return "jocl"; }

    private static void check(String call, int code) {
        if (code != CL.CL_SUCCESS) throw new ClException(call, code);
    }

    @SuppressWarnings("unchecked")
    private static <T extends NativePointerObject> T obj(NativeHandle h) {
        return (T) ((JoclHandle) h).object();
    }

    private static cl_event[] events(List<NativeHandle> hs) {
        if (hs == null || hs.isEmpty()) return null;
        cl_event[] es = new cl_event[hs.size()];
        for (int i = 0; i < es.length; i++) es[i] = obj(hs.get(i));
        return es;
    }

    private static int count(List<NativeHandle> hs) { return hs == null ? 0 : hs.size(); }

    /** The two-call pattern of clGet*Info: ask the size, then the bytes. */
    private interface InfoCall { int call(long size, Pointer value, long[] sizeRet); }

    private static byte[] info(String call, InfoCall f) {
        long[] size = new long[1];
        check(call, f.call(0, null, size));
        byte[] out = new byte[(int) size[0]];
        if (out.length > 0) check(call, f.call(out.length, Pointer.to(out), null));
        return out;
    }

    /** One of OpenCL's two-call listings (clGetPlatformIDs, clGetDeviceIDs): entries, array, count. */
    private interface IdQuery<T> { int call(int entries, T[] ids, int[] count); }

    /** Asks for the count, then for that many ids; {@code none} is the code that means "there are none". */
    private static <T extends NativePointerObject> List<NativeHandle> list(String call, int none, Kind kind,
                                                                          IntFunction<T[]> array, IdQuery<T> query) {
        int[] n = new int[1];
        int rc = query.call(0, null, n);
        if (rc == none || (rc == CL.CL_SUCCESS && n[0] == 0)) return List.of();
        check(call, rc);
        T[] ids = array.apply(n[0]);
        check(call, query.call(ids.length, ids, null));
        List<NativeHandle> out = new ArrayList<>();
        for (T id : ids) out.add(new JoclHandle(kind, id));
        return out;
    }

    @Override
    public List<NativeHandle> platforms() {
        return list("clGetPlatformIDs", ClError.CL_PLATFORM_NOT_FOUND_KHR, Kind.PLATFORM, cl_platform_id[]::new,
                CL::clGetPlatformIDs);
    }

    @Override
    public byte[] platformInfo(NativeHandle platform, int param) {
        cl_platform_id p = obj(platform);
        return info("clGetPlatformInfo", (s, v, r) -> CL.clGetPlatformInfo(p, param, s, v, r));
    }

    @Override
    public List<NativeHandle> devices(NativeHandle platform, long deviceType) {
        cl_platform_id p = obj(platform);
        return list("clGetDeviceIDs", ClError.CL_DEVICE_NOT_FOUND, Kind.DEVICE, cl_device_id[]::new,
                (entries, ids, count) -> CL.clGetDeviceIDs(p, deviceType, entries, ids, count));
    }

    @Override
    public byte[] deviceInfo(NativeHandle device, int param) {
        cl_device_id d = obj(device);
        return info("clGetDeviceInfo", (s, v, r) -> CL.clGetDeviceInfo(d, param, s, v, r));
    }

    @Override
    public NativeHandle createContext(List<NativeHandle> devices) {
        cl_device_id[] ds = devices.stream().map(h -> (cl_device_id) obj(h)).toArray(cl_device_id[]::new);
        int[] err = new int[1];
        cl_context c = CL.clCreateContext(null, ds.length, ds, null, null, err);
        check("clCreateContext", err[0]);
        return new JoclHandle(Kind.CONTEXT, c);
    }

    @Override
    public NativeHandle createQueue(NativeHandle context, NativeHandle device, long properties) {
        cl_queue_properties props = new cl_queue_properties();
        props.addProperty(CL.CL_QUEUE_PROPERTIES, properties);
        int[] err = new int[1];
        cl_command_queue q = CL.clCreateCommandQueueWithProperties(obj(context), obj(device), props, err);
        check("clCreateCommandQueueWithProperties", err[0]);
        return new JoclHandle(Kind.QUEUE, q);
    }

    @Override
    public NativeHandle createBuffer(NativeHandle context, long flags, long size) {
        int[] err = new int[1];
        cl_mem m = CL.clCreateBuffer(obj(context), flags, size, null, err);
        check("clCreateBuffer", err[0]);
        return new JoclHandle(Kind.BUFFER, m);
    }

    @Override
    public NativeHandle createBuffer(NativeHandle context, long flags, java.lang.foreign.MemorySegment hostData) {
        int[] err = new int[1];
        cl_mem m = CL.clCreateBuffer(obj(context), flags | CL.CL_MEM_COPY_HOST_PTR, hostData.byteSize(),
                org.jocl.Pointer.to(hostData.asByteBuffer()), err);
        check("clCreateBuffer", err[0]);
        return new JoclHandle(Kind.BUFFER, m);
    }

    @Override
    public NativeHandle createSubBuffer(NativeHandle buffer, long flags, long origin, long size) {
        int[] err = new int[1];
        cl_mem m = CL.clCreateSubBuffer(obj(buffer), flags, CL.CL_BUFFER_CREATE_TYPE_REGION,
                new org.jocl.cl_buffer_region(origin, size), err);
        check("clCreateSubBuffer", err[0]);
        return new JoclHandle(Kind.BUFFER, m);
    }

    @Override
    public NativeHandle createProgramWithSource(NativeHandle context, String source) {
        int[] err = new int[1];
        cl_program p = CL.clCreateProgramWithSource(obj(context), 1, new String[] {source}, null, err);
        check("clCreateProgramWithSource", err[0]);
        return new JoclHandle(Kind.PROGRAM, p);
    }

    @Override
    public NativeHandle createProgramWithBinary(NativeHandle context, NativeHandle device, byte[] binary) {
        int[] err = new int[1];
        int[] status = new int[1];
        cl_program p = CL.clCreateProgramWithBinary(obj(context), 1, new cl_device_id[] {obj(device)},
                new long[] {binary.length}, new byte[][] {binary}, status, err);
        check("clCreateProgramWithBinary", err[0] != CL.CL_SUCCESS ? err[0] : status[0]);
        return new JoclHandle(Kind.PROGRAM, p);
    }

    @Override
    public void buildProgram(NativeHandle program, NativeHandle device, String options) {
        check("clBuildProgram", CL.clBuildProgram(obj(program), 1, new cl_device_id[] {obj(device)}, options, null, null));
    }

    @Override
    public byte[] programInfo(NativeHandle program, int param) {
        cl_program p = obj(program);
        return info("clGetProgramInfo", (s, v, r) -> CL.clGetProgramInfo(p, param, s, v, r));
    }

    @Override
    public byte[] programBinary(NativeHandle program) {
        cl_program p = obj(program);
        long[] size = new long[1];
        check("clGetProgramInfo", CL.clGetProgramInfo(p, CL.CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null));
        byte[] binary = new byte[(int) size[0]];
        check("clGetProgramInfo", CL.clGetProgramInfo(p, CL.CL_PROGRAM_BINARIES, Sizeof.POINTER,
                Pointer.to(Pointer.to(binary)), null));
        return binary;
    }

    @Override
    public byte[] programBuildInfo(NativeHandle program, NativeHandle device, int param) {
        cl_program p = obj(program);
        cl_device_id d = obj(device);
        return info("clGetProgramBuildInfo", (s, v, r) -> CL.clGetProgramBuildInfo(p, d, param, s, v, r));
    }

    @Override
    public NativeHandle createKernel(NativeHandle program, String name) {
        int[] err = new int[1];
        cl_kernel k = CL.clCreateKernel(obj(program), name, err);
        check("clCreateKernel", err[0]);
        return new JoclHandle(Kind.KERNEL, k);
    }

    @Override
    public byte[] kernelInfo(NativeHandle kernel, int param) {
        cl_kernel k = obj(kernel);
        return info("clGetKernelInfo", (s, v, r) -> CL.clGetKernelInfo(k, param, s, v, r));
    }

    @Override
    public byte[] kernelArgInfo(NativeHandle kernel, int index, int param) {
        cl_kernel k = obj(kernel);
        return info("clGetKernelArgInfo", (s, v, r) -> CL.clGetKernelArgInfo(k, index, param, s, v, r));
    }

    @Override
    public byte[] kernelWorkGroupInfo(NativeHandle kernel, NativeHandle device, int param) {
        cl_kernel k = obj(kernel);
        cl_device_id d = obj(device);
        return info("clGetKernelWorkGroupInfo", (s, v, r) -> CL.clGetKernelWorkGroupInfo(k, d, param, s, v, r));
    }

    @Override
    public void setKernelArgBuffer(NativeHandle kernel, int index, NativeHandle buffer) {
        check("clSetKernelArg", CL.clSetKernelArg(obj(kernel), index, Sizeof.cl_mem, Pointer.to((cl_mem) obj(buffer))));
    }

    @Override
    public void setKernelArgValue(NativeHandle kernel, int index, byte[] value) {
        check("clSetKernelArg", CL.clSetKernelArg(obj(kernel), index, value.length, Pointer.to(value)));
    }

    @Override
    public void setKernelArgLocal(NativeHandle kernel, int index, long size) {
        check("clSetKernelArg", CL.clSetKernelArg(obj(kernel), index, size, null));
    }

    @Override
    public NativeHandle enqueueNDRange(NativeHandle queue, NativeHandle kernel, long[] global, long[] local,
                                       List<NativeHandle> waitFor) {
        cl_event e = new cl_event();
        check("clEnqueueNDRangeKernel", CL.clEnqueueNDRangeKernel(obj(queue), obj(kernel), global.length, null,
                global, local, count(waitFor), events(waitFor), e));
        return new JoclHandle(Kind.EVENT, e);
    }

    private static Pointer hostPointer(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("transfers need native host memory (an arena's segment)");
        }
        return Pointer.to(segment.asByteBuffer());
    }

    @Override
    public NativeHandle enqueueWrite(NativeHandle queue, NativeHandle buffer, boolean blocking, long offset,
                                     MemorySegment source, List<NativeHandle> waitFor) {
        cl_event e = new cl_event();
        check("clEnqueueWriteBuffer", CL.clEnqueueWriteBuffer(obj(queue), obj(buffer), blocking, offset,
                source.byteSize(), hostPointer(source), count(waitFor), events(waitFor), e));
        return new JoclHandle(Kind.EVENT, e);
    }

    @Override
    public NativeHandle enqueueRead(NativeHandle queue, NativeHandle buffer, boolean blocking, long offset,
                                    MemorySegment target, List<NativeHandle> waitFor) {
        cl_event e = new cl_event();
        check("clEnqueueReadBuffer", CL.clEnqueueReadBuffer(obj(queue), obj(buffer), blocking, offset,
                target.byteSize(), hostPointer(target), count(waitFor), events(waitFor), e));
        return new JoclHandle(Kind.EVENT, e);
    }

    @Override
    public NativeHandle enqueueFill(NativeHandle queue, NativeHandle buffer, byte[] pattern, long offset, long size,
                                    List<NativeHandle> waitFor) {
        cl_event e = new cl_event();
        check("clEnqueueFillBuffer", CL.clEnqueueFillBuffer(obj(queue), obj(buffer), Pointer.to(pattern),
                pattern.length, offset, size, count(waitFor), events(waitFor), e));
        return new JoclHandle(Kind.EVENT, e);
    }

    @Override
    public NativeHandle enqueueCopy(NativeHandle queue, NativeHandle source, NativeHandle target, long sourceOffset,
                                    long targetOffset, long size, List<NativeHandle> waitFor) {
        cl_event e = new cl_event();
        check("clEnqueueCopyBuffer", CL.clEnqueueCopyBuffer(obj(queue), obj(source), obj(target), sourceOffset,
                targetOffset, size, count(waitFor), events(waitFor), e));
        return new JoclHandle(Kind.EVENT, e);
    }

    @Override
    public NativeHandle enqueueMarker(NativeHandle queue, List<NativeHandle> waitFor) {
        cl_event e = new cl_event();
        check("clEnqueueMarkerWithWaitList", CL.clEnqueueMarkerWithWaitList(obj(queue), count(waitFor), events(waitFor), e));
        return new JoclHandle(Kind.EVENT, e);
    }

    @Override public void flush(NativeHandle queue) { check("clFlush", CL.clFlush(obj(queue))); }

    @Override public void finish(NativeHandle queue) { check("clFinish", CL.clFinish(obj(queue))); }

    @Override
    public void waitForEvents(List<NativeHandle> es) {
        int rc = CL.clWaitForEvents(es.size(), events(es));
        // A failed command makes clWaitForEvents report it; the caller reads the status for the detail.
        if (rc != CL.CL_SUCCESS && rc != -14) check("clWaitForEvents", rc);
    }

    @Override
    public int eventStatus(NativeHandle event) {
        int[] status = new int[1];
        check("clGetEventInfo", CL.clGetEventInfo(obj(event), CL.CL_EVENT_COMMAND_EXECUTION_STATUS, Sizeof.cl_int,
                Pointer.to(status), null));
        return status[0];
    }

    @Override
    public long eventProfilingInfo(NativeHandle event, int param) {
        long[] t = new long[1];
        check("clGetEventProfilingInfo", CL.clGetEventProfilingInfo(obj(event), param, Sizeof.cl_ulong, Pointer.to(t), null));
        return t[0];
    }

    @Override
    public void release(NativeHandle handle) {
        JoclHandle h = (JoclHandle) handle;
        int rc = switch (h.kind()) {
            case CONTEXT -> CL.clReleaseContext((cl_context) h.object());
            case QUEUE -> CL.clReleaseCommandQueue((cl_command_queue) h.object());
            case BUFFER -> CL.clReleaseMemObject((cl_mem) h.object());
            case PROGRAM -> CL.clReleaseProgram((cl_program) h.object());
            case KERNEL -> CL.clReleaseKernel((cl_kernel) h.object());
            case EVENT -> CL.clReleaseEvent((cl_event) h.object());
            case PLATFORM, DEVICE -> CL.CL_SUCCESS; // root devices and platforms are not reference counted
            case COMMAND_BUFFER -> throw new IllegalStateException("unreachable: JOCL makes no command buffers");
        };
        check("clRelease" + h.kind(), rc);
    }

    // cl_khr_command_buffer: JOCL 2.0.5 binds no extension entry points for it (and cannot call a function pointer
    // looked up at run time), so this binding reports it unsupported and the runtime enqueues every command itself.
    private static final String NO_COMMAND_BUFFERS = "JOCL 2.0.5 has no cl_khr_command_buffer entry points";

    @Override
    public String commandBuffersUnsupported(NativeHandle platform) { return NO_COMMAND_BUFFERS; }

    @Override
    public NativeHandle createCommandBuffer(NativeHandle platform, NativeHandle queue) {
        throw new UnsupportedOperationException(NO_COMMAND_BUFFERS);
    }

    @Override
    public NativeHandle cloneKernel(NativeHandle kernel) { throw new UnsupportedOperationException(NO_COMMAND_BUFFERS); }

    @Override
    public int commandNDRangeKernel(NativeHandle commandBuffer, NativeHandle kernel, long[] global, long[] local, int[] waitFor) {
        throw new UnsupportedOperationException(NO_COMMAND_BUFFERS);
    }

    @Override
    public int commandCopyBuffer(NativeHandle commandBuffer, NativeHandle source, NativeHandle target, long sourceOffset,
                                 long targetOffset, long size, int[] waitFor) {
        throw new UnsupportedOperationException(NO_COMMAND_BUFFERS);
    }

    @Override
    public void finalizeCommandBuffer(NativeHandle commandBuffer) { throw new UnsupportedOperationException(NO_COMMAND_BUFFERS); }

    @Override
    public NativeHandle enqueueCommandBuffer(NativeHandle queue, NativeHandle commandBuffer, List<NativeHandle> waitFor) {
        throw new UnsupportedOperationException(NO_COMMAND_BUFFERS);
    }
}
