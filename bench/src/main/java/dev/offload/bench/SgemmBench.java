package dev.offload.bench;

import dev.offload.cl.Device;
import java.util.List;
import java.util.SplittableRandom;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.blast.CLBlast;
import org.jocl.blast.CLBlastLayout;
import org.jocl.blast.CLBlastTranspose;

/**
 * CLBlast's SGEMM (through jocl-blast, which bundles libclblast) on the same OpenCL device: how far a tuned,
 * general OpenCL BLAS gets on this device, in GFLOPS (2·M·N·K / s of enqueue + finish). jocl-blast needs JOCL
 * objects, so this section makes its own JOCL context on the device offload benchmarks. CLBlast compiles its
 * kernels on the first call (seconds): that call is the warm-up.
 */
final class SgemmBench {
    private SgemmBench() {}

    static List<Integer> sizes(boolean quick) { return quick ? List.of(256) : List.of(512, 1024, 2048); }

    static void run(Report report, Device device, boolean quick) {
        try {
            CL.setExceptionsEnabled(true);
            CLBlast.setExceptionsEnabled(true);
        } catch (LinkageError e) {
            Peer.note("CLBlast (jocl-blast) did not load (" + Peer.rootMessage(e) + "); sgemm skipped");
            return;
        }
        cl_device_id id;
        cl_platform_id platform;
        try {
            platform = platforms()[device.platform().index()];
            id = devices(platform)[device.index()];
            if (!name(id).equals(device.name().strip())) {
                throw new IllegalStateException("JOCL lists '" + name(id) + "' at " + device.spec() + ", offload '" + device.name() + "'");
            }
        } catch (RuntimeException | LinkageError e) {
            Peer.note("JOCL could not find " + device + " (" + Peer.rootMessage(e) + "); sgemm skipped");
            return;
        }
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL.CL_CONTEXT_PLATFORM, platform);
        cl_context context = CL.clCreateContext(props, 1, new cl_device_id[] {id}, null, null, null);
        try {
            @SuppressWarnings("deprecation")
            cl_command_queue queue = CL.clCreateCommandQueue(context, id, 0, null);
            try {
                for (int n : sizes(quick)) {
                    double ns = time(context, queue, n, quick);
                    if (Double.isNaN(ns)) return;
                    report.add(new BenchRow("sgemm", n + "x" + n + "x" + n + " fp32", "clblast", device.spec(), ns / 1e6,
                            2.0 * n * n * n / ns, "GFLOPS", Double.NaN,
                            "CLBlast SGEMM via jocl-blast (reference: a tuned OpenCL BLAS on the same device)"));
                }
            } finally {
                CL.clReleaseCommandQueue(queue);
            }
        } finally {
            CL.clReleaseContext(context);
        }
    }

    /** Median wall time of C = A·B at n³, or NaN (with a note) when CLBlast fails. */
    private static double time(cl_context context, cl_command_queue queue, int n, boolean quick) {
        SplittableRandom rnd = new SplittableRandom(n);
        float[] a = new float[n * n], b = new float[n * n];
        for (int i = 0; i < a.length; i++) { a[i] = (float) rnd.nextDouble(-1, 1); b[i] = (float) rnd.nextDouble(-1, 1); }
        long bytes = (long) Sizeof.cl_float * n * n;
        cl_mem ma = CL.clCreateBuffer(context, CL.CL_MEM_READ_ONLY | CL.CL_MEM_COPY_HOST_PTR, bytes, Pointer.to(a), null);
        cl_mem mb = CL.clCreateBuffer(context, CL.CL_MEM_READ_ONLY | CL.CL_MEM_COPY_HOST_PTR, bytes, Pointer.to(b), null);
        cl_mem mc = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, bytes, null, null);
        try {
            Runnable sgemm = () -> {
                CLBlast.CLBlastSgemm(CLBlastLayout.CLBlastLayoutRowMajor, CLBlastTranspose.CLBlastTransposeNo,
                        CLBlastTranspose.CLBlastTransposeNo, n, n, n, 1f, ma, 0, n, mb, 0, n, 0f, mc, 0, n, queue, null);
                CL.clFinish(queue);
            };
            long t0 = System.nanoTime();
            sgemm.run(); // compiles CLBlast's kernels for this device: seconds
            System.err.printf("bench: sgemm: CLBlast's first call at %d^3 took %.1f s (kernel compilation)%n", n,
                    (System.nanoTime() - t0) / 1e9);
            return Timing.medianNanos(quick ? 0 : 1, quick ? 3 : 5, quick ? 2 : 10, Timing.wall(sgemm));
        } catch (RuntimeException | LinkageError e) {
            Peer.note("CLBlast SGEMM failed at " + n + "^3 (" + Peer.rootMessage(e) + "); sgemm skipped");
            return Double.NaN;
        } finally {
            CL.clReleaseMemObject(ma);
            CL.clReleaseMemObject(mb);
            CL.clReleaseMemObject(mc);
        }
    }

    private static cl_platform_id[] platforms() {
        int[] count = new int[1];
        CL.clGetPlatformIDs(0, null, count);
        cl_platform_id[] ps = new cl_platform_id[count[0]];
        CL.clGetPlatformIDs(ps.length, ps, null);
        return ps;
    }

    private static String name(cl_device_id id) {
        long[] size = new long[1];
        CL.clGetDeviceInfo(id, CL.CL_DEVICE_NAME, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        CL.clGetDeviceInfo(id, CL.CL_DEVICE_NAME, bytes.length, Pointer.to(bytes), null);
        return new String(bytes, 0, Math.max(0, bytes.length - 1), java.nio.charset.StandardCharsets.UTF_8).strip();
    }

    private static cl_device_id[] devices(cl_platform_id p) {
        int[] count = new int[1];
        CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, 0, null, count);
        cl_device_id[] ds = new cl_device_id[count[0]];
        CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, ds.length, ds, null);
        return ds;
    }
}
