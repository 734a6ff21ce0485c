package dev.offload.cl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** The API behaves the same through both bindings on the machine's OpenCL devices (PoCL here and in CI). */
class BindingsTest {

    static final String SAXPY = """
            __kernel void saxpy(const float a, __global const float* x, __global float* y, const int n) {
                int i = get_global_id(0);
                if (i < n) y[i] = fma(a, x[i], y[i]);
            }
            """;

    static Device firstDevice(Binding b) {
        List<Device> ds = OpenCl.open(b).devices();
        assertFalse(ds.isEmpty(), "no OpenCL device through " + b + " (is PoCL installed?)");
        return ds.getFirst();
    }

    @Test
    void bothBindingsReportTheSameDevicesWithTheSameProperties() {
        OpenCl panama = OpenCl.open(Binding.PANAMA);
        OpenCl jocl = OpenCl.open(Binding.JOCL);
        assertEquals(panama.platforms().size(), jocl.platforms().size());
        List<Device> p = panama.devices(), j = jocl.devices();
        assertFalse(p.isEmpty());
        assertEquals(p.size(), j.size());
        for (int i = 0; i < p.size(); i++) {
            assertEquals(p.get(i).info(), j.get(i).info(), "device " + i);
            assertEquals(p.get(i).stableId(), j.get(i).stableId());
            assertEquals(p.get(i).platform().name(), j.get(i).platform().name());
        }
        DeviceInfo info = p.getFirst().info();
        assertTrue(info.computeUnits() > 0);
        assertTrue(info.globalMemBytes() > 0);
        assertTrue(info.maxWorkGroupSize() > 0);
        assertFalse(info.name().isBlank());
    }

    @ParameterizedTest
    @EnumSource(Binding.class)
    void saxpyOnAMillionRandomFloatsMatchesJavaExactly(Binding binding) {
        int n = 1 << 20;
        float a = 1.75f;
        Random rnd = new Random(42);
        float[] x = new float[n], y = new float[n];
        for (int i = 0; i < n; i++) { x[i] = rnd.nextFloat() * 2 - 1; y[i] = rnd.nextFloat() * 2 - 1; }
        Device device = firstDevice(binding);
        try (Arena arena = Arena.ofConfined();
             Context ctx = Context.create(device);
             Queue q = ctx.createQueue();
             Buffer bx = ctx.createBuffer(4L * n);
             Buffer by = ctx.createBuffer(4L * n);
             Program program = ctx.buildProgram(SAXPY, "-cl-std=CL1.2");
             Kernel k = program.kernel("saxpy")) {
            MemorySegment hx = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment hy = arena.allocateFrom(ValueLayout.JAVA_FLOAT, y);
            q.writeBlocking(bx, hx);
            q.writeBlocking(by, hy);
            k.setArgs(a, bx, by, n);
            Event.Times t;
            try (Event e = q.launch(k, new long[] {n}, null)) {
                t = e.times();
            }
            MemorySegment out = arena.allocate(4L * n);
            q.readBlocking(by, out);
            float[] got = out.toArray(ValueLayout.JAVA_FLOAT);
            float[] want = new float[n];
            for (int i = 0; i < n; i++) want[i] = Math.fma(a, x[i], y[i]);
            assertArrayEquals(want, got);
            assertTrue(t.queued() > 0, "queued time " + t);
            assertTrue(t.queued() <= t.submit() && t.submit() <= t.start() && t.start() <= t.end(), "ordered " + t);
            assertTrue(t.deviceNanos() > 0, "device time " + t);
            assertEquals(List.of("saxpy"), program.kernelNames());
            assertEquals(4, k.argCount());
        }
    }

    @ParameterizedTest
    @EnumSource(Binding.class)
    void aSyntaxErrorYieldsTheBuildFailureWithTheLog(Binding binding) {
        Device device = firstDevice(binding);
        try (Context ctx = Context.create(device)) {
            ClException e = assertThrows(ClException.class,
                    () -> ctx.buildProgram("__kernel void broken(__global int* x) { x[0] = undefined_name; }", ""));
            assertEquals("clBuildProgram", e.call());
            assertEquals("CL_BUILD_PROGRAM_FAILURE", e.errorName());
            assertNotNull(e.buildLog());
            assertTrue(e.buildLog().contains("undefined_name"), e.buildLog());
            assertTrue(e.getMessage().startsWith("clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE"), e.getMessage());
            // The JVM and the context survive: a correct program still builds.
            try (Program ok = ctx.buildProgram(SAXPY, "")) {
                assertEquals(List.of("saxpy"), ok.kernelNames());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Binding.class)
    void invalidArgumentsYieldNamedErrors(Binding binding) {
        Device device = firstDevice(binding);
        try (Context ctx = Context.create(device);
             Queue q = ctx.createQueue();
             Program program = ctx.buildProgram(SAXPY, "");
             Kernel k = program.kernel("saxpy")) {
            ClException badIndex = assertThrows(ClException.class, () -> k.arg(9, 1));
            assertEquals("CL_INVALID_ARG_INDEX", badIndex.errorName());
            ClException badSize = assertThrows(ClException.class, () -> k.arg(3, 1L));
            assertEquals("CL_INVALID_ARG_SIZE", badSize.errorName());
            IllegalArgumentException tooFew = assertThrows(IllegalArgumentException.class, () -> k.setArgs(1f, 2));
            assertTrue(tooFew.getMessage().contains("takes 4 arguments, got 2"), tooFew.getMessage());
            IllegalArgumentException badType = assertThrows(IllegalArgumentException.class, () -> k.setArgs(1f, "x", 2, 3));
            assertTrue(badType.getMessage().contains("argument 1"), badType.getMessage());
            ClException unset = assertThrows(ClException.class, () -> q.run(k, new long[] {16}, null));
            assertEquals("CL_INVALID_KERNEL_ARGS", unset.errorName());
            assertEquals("clEnqueueNDRangeKernel", unset.call());
            ClException badName = assertThrows(ClException.class, () -> program.kernel("nope"));
            assertEquals("CL_INVALID_KERNEL_NAME", badName.errorName());
            assertTrue(badName.getMessage().contains("saxpy"), badName.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Binding.class)
    void aProgramBinaryRoundTripsThroughLoadBinary(Binding binding) {
        Device device = firstDevice(binding);
        try (Context ctx = Context.create(device); Program p = ctx.buildProgram(SAXPY, "")) {
            byte[] bin = p.binary();
            assertTrue(bin.length > 0);
            try (Program again = ctx.loadBinary(bin, ""); Kernel k = again.kernel("saxpy")) {
                assertEquals(4, k.argCount());
            }
        }
    }

    @Test
    void theUnsignedDeviceTypeAllIsWidenedNotSignExtended() {
        assertEquals(0xFFFFFFFFL, Cl.DEVICE_TYPE_ALL);
        assertEquals(Cl.DEVICE_TYPE_ALL, Integer.toUnsignedLong(dev.offload.cl.panama.gen.CL.CL_DEVICE_TYPE_ALL()));
    }

    @Test
    void handWrittenConstantsAgreeWithTheGeneratedBindings() {
        var g = dev.offload.cl.panama.gen.CL.class;
        assertEquals(Cl.DEVICE_NAME, dev.offload.cl.panama.gen.CL.CL_DEVICE_NAME());
        assertEquals(Cl.DEVICE_MAX_WORK_ITEM_SIZES, dev.offload.cl.panama.gen.CL.CL_DEVICE_MAX_WORK_ITEM_SIZES());
        assertEquals(Cl.PROGRAM_BUILD_LOG, dev.offload.cl.panama.gen.CL.CL_PROGRAM_BUILD_LOG());
        assertEquals(Cl.PROGRAM_KERNEL_NAMES, dev.offload.cl.panama.gen.CL.CL_PROGRAM_KERNEL_NAMES());
        assertEquals(Cl.KERNEL_COMPILE_WORK_GROUP_SIZE, dev.offload.cl.panama.gen.CL.CL_KERNEL_COMPILE_WORK_GROUP_SIZE());
        assertEquals(Cl.PROFILING_COMMAND_END, dev.offload.cl.panama.gen.CL.CL_PROFILING_COMMAND_END());
        assertEquals(Cl.KERNEL_ARG_TYPE_NAME, dev.offload.cl.panama.gen.CL.CL_KERNEL_ARG_TYPE_NAME());
        assertEquals(Cl.DEVICE_OPENCL_C_VERSION, dev.offload.cl.panama.gen.CL.CL_DEVICE_OPENCL_C_VERSION());
        assertEquals(ClError.CL_BUILD_PROGRAM_FAILURE, dev.offload.cl.panama.gen.CL.CL_BUILD_PROGRAM_FAILURE());
        assertEquals("CL_INVALID_SPEC_ID", ClError.name(dev.offload.cl.panama.gen.CL.CL_INVALID_SPEC_ID()));
        assertNotNull(g);
    }
}
