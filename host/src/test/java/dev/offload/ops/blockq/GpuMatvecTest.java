package dev.offload.ops.blockq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Buffer;
import dev.offload.device.KernelStyle;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.validate.CheckResult;
import dev.offload.validate.GuardedOutput;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * blockq_matvec_gpu, the GPU-shaped decode kernel, forced on PoCL: within BlockLinearBound at awkward shapes (N not a
 * multiple of 16 so tail rows and a partial work-group, K of one block and of blocks not a multiple of the lanes),
 * bit for bit with one lane (the reference's order), into guarded, poisoned outputs; CPUs keep blockq_linear.
 */
class GpuMatvecTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static float[] run(BlockMatmul mm, BlockLinearTest.Problem p, boolean[] guards) {
        try (BlockMatmul.DeviceWeight w = mm.upload(p.w()); Buffer x = CL.device().upload(p.x()); Buffer dx = CL.device().upload(p.dx());
             Buffer bias = p.bias() == null ? null : CL.device().upload(p.bias());
             GuardedOutput y = GuardedOutput.floats(CL.device(), p.m() * p.w().rows())) {
            mm.run(x, dx, p.m(), w, bias, y.buffer());
            guards[0] = y.guardsIntact();
            return y.readFloats();
        }
    }

    @ParameterizedTest
    @CsvSource({"Q8_0, 1, 32, 1", "Q8_0, 1, 2080, 97", "Q8_0, 4, 96, 1000", "Q4_0, 1, 2080, 31", "Q4_0, 3, 544, 97", "Q4_0, 2, 32, 16"})
    void sixteenLanesStayWithinTheBlockLinearBound(BlockFormat f, int m, int k, int n) {
        BlockMatmul mm = new BlockMatmul(CL.device(), new BlockMatmul.GpuMatvec(16, 4));
        assertTrue(mm.usesGpuMatvec(m, f));
        try (Arena arena = Arena.ofShared()) {
            BlockLinearTest.Problem p = BlockLinearTest.Problem.random(f, m, k, n, n % 2 == 1, 1000 + m * k + n, arena);
            boolean[] guards = {false};
            float[] got = run(mm, p, guards);
            CheckResult r = p.check(got);
            assertTrue(r.passed(), r.toString());
            assertTrue(guards[0], "guard regions intact");
        }
    }

    @Test
    void oneLaneIsTheReferencesOrderBitForBit() {
        BlockMatmul mm = new BlockMatmul(CL.device(), new BlockMatmul.GpuMatvec(1, 4));
        for (BlockFormat f : new BlockFormat[] {BlockFormat.Q8_0, BlockFormat.Q4_0}) {
            try (Arena arena = Arena.ofShared()) {
                BlockLinearTest.Problem p = BlockLinearTest.Problem.random(f, 2, 2080, 97, true, 77, arena);
                boolean[] guards = {false};
                assertArrayEquals(p.reference(), run(mm, p, guards), f + ": one lane sums in the reference's order");
                assertTrue(guards[0]);
            }
        }
    }

    @Test
    void gpusDefaultToItAndPrebuildItsVariants() {
        var gpu = dev.offload.testing.AsGpu.of(CL.device().info(), java.util.Set.of());
        assertEquals(new BlockMatmul.GpuMatvec(16, 4), BlockMatmul.GpuMatvec.forDevice(gpu));
        var cpuBuilds = BlockMatmul.allBuildOptions(CL.device().info(), KernelStyle.PORTABLE);
        var gpuBuilds = BlockMatmul.allBuildOptions(gpu, KernelStyle.PORTABLE);
        assertTrue(cpuBuilds.stream().noneMatch(o -> o.contains("MATVEC_LANES")));
        // Q8_0 and Q4_0 x rows 1..4 x bias x residual.
        assertEquals(2 * 4 * 2 * 2, gpuBuilds.stream().filter(o -> o.contains("-D MATVEC_LANES=16")).count());
        assertTrue(BlockMatmul.allBuildOptions(gpu, KernelStyle.FPGA).stream().noneMatch(o -> o.contains("MATVEC_LANES")));
    }

    @Test
    void cpusAndKQuantsAndTheFpgaStyleKeepBlockqLinear() {
        assertNull(BlockMatmul.GpuMatvec.forDevice(CL.device().info()), "PoCL's CPU device: no GPU matvec by default");
        assertFalse(new BlockMatmul(CL.device()).usesGpuMatvec(1, BlockFormat.Q8_0));
        BlockMatmul forced = new BlockMatmul(CL.device(), new BlockMatmul.GpuMatvec(16, 2));
        assertFalse(forced.usesGpuMatvec(3, BlockFormat.Q8_0), "more rows than maxRows: blockq_linear");
        assertFalse(forced.usesGpuMatvec(1, BlockFormat.Q4_K), "K-quants: blockq_linear");
        KernelStyle before = CL.device().kernelStyle();
        try {
            CL.device().kernelStyle(KernelStyle.FPGA);
            assertFalse(forced.usesGpuMatvec(1, BlockFormat.Q8_0), "FPGA style: blockq_linear");
        } finally {
            CL.device().kernelStyle(before);
        }
        assertThrows(IllegalArgumentException.class, () -> new BlockMatmul.GpuMatvec(32, 4), "a tree of more than 4 levels is past the bound");
        assertThrows(IllegalArgumentException.class, () -> new BlockMatmul.GpuMatvec(6, 4));
        assertEquals(16, new BlockMatmul.GpuMatvec(16, 4).lanes());
    }
}
