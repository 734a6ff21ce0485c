package dev.offload.ops.blockq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Buffer;
import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.device.OpenClDevice;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.DeviceInfos;
import dev.offload.validate.CheckResult;
import dev.offload.validate.GuardedOutput;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The decode tiles' software prefetch: chosen per device (Intel CPUs ask 4 blocks ahead, others leave the stream to
 * the hardware), passed to decode tiles only, and never a change to the result.
 */
class DecodePrefetchTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static DeviceInfo as(DeviceType type, String vendor) {
        return DeviceInfos.as(CL.device().info(), type, vendor, CL.device().info().driverVersion());
    }

    @Test
    void intelCpusPrefetchFourBlocksAheadAndOtherDevicesNone() {
        assertEquals(4, BlockMatmul.decodePrefetchBlocks(as(DeviceType.CPU, "GenuineIntel")));
        assertEquals(0, BlockMatmul.decodePrefetchBlocks(as(DeviceType.CPU, "AuthenticAMD")));
        assertEquals(0, BlockMatmul.decodePrefetchBlocks(as(DeviceType.GPU, "Intel(R) Corporation")));
        assertEquals(0, BlockMatmul.decodePrefetchBlocks(as(DeviceType.CPU, null)));
    }

    @Test
    void onlyAVnniDecodeTileIsBuiltWithThePrefetch() {
        BlockMatmul.Tile decode = BlockMatmul.Tile.forRows(1), prefill = BlockMatmul.Tile.forRows(64);
        String define = "-D PREFETCH_BLOCKS=4";
        assertTrue(BlockMatmul.buildOptions(BlockFormat.Q4_0, decode, false, true, true, 4).contains(define));
        assertFalse(BlockMatmul.buildOptions(BlockFormat.Q4_0, decode, false, true, true, 0).contains("PREFETCH"), "0: no define");
        assertFalse(BlockMatmul.buildOptions(BlockFormat.Q4_0, decode, false, true, false, 4).contains("PREFETCH"), "portable: none");
        assertFalse(BlockMatmul.buildOptions(BlockFormat.Q8_0, prefill, true, false, true, 4).contains("PREFETCH"), "prefill: none");
        assertFalse(BlockMatmul.buildOptions(BlockFormat.Q4_0, BlockMatmul.Tile.forRows(64, BlockFormat.Q4_0, true), false, false, true, 4)
                .contains("PREFETCH"), "AMX prefill: none");
        assertThrows(IllegalArgumentException.class, () -> BlockMatmul.buildOptions(BlockFormat.Q4_0, decode, false, false, true, -1));
    }

    @ParameterizedTest(name = "{0} {1}x{2}x{3}")
    @CsvSource({"Q4_0, 1, 4096, 200", "Q8_0, 2, 2080, 67", "Q4_K, 1, 2048, 130", "Q6_K, 3, 1024, 49", "Q4_0, 4, 160, 33"})
    void withOrWithoutThePrefetchTheProductIsTheSameBits(BlockFormat f, int m, int k, int n) {
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom rnd = new SplittableRandom(101L * m + k + n);
            byte[] x = RandomBlocks.activations(m, k, rnd);
            float[] dx = RandomBlocks.scales(m * k / 32, rnd);
            BlockMatrix w = RandomBlocks.weight(f, n, k, rnd, arena);
            BlockMatmul device = new BlockMatmul(CL.device());
            float[] none = run(device.withDecodePrefetch(0), x, dx, m, w), ahead = run(device.withDecodePrefetch(4), x, dx, m, w),
                    far = run(device.withDecodePrefetch(16), x, dx, m, w);
            float[] want = BlockLinearReference.linear(x, dx, m, w, null);
            CheckResult c = BlockLinearBound.compare("blockq", m + "x" + k + "x" + n, "test", want, none,
                    BlockLinearBound.bounds(x, dx, m, w, null), true);
            assertTrue(c.passed(), c.toString());
            assertArrayEquals(none, ahead, "4 blocks ahead: the same floats");
            assertArrayEquals(none, far, "16 blocks ahead (past the end of short rows): the same floats");
        }
    }

    /** y = x W^T into a poisoned, guarded output; asserts the guards held. */
    private static float[] run(BlockMatmul mm, byte[] x, float[] dx, int m, BlockMatrix w) {
        OpenClDevice device = mm.device();
        try (BlockMatmul.DeviceWeight dw = mm.upload(w); Buffer xb = device.upload(x); Buffer db = device.upload(dx);
             GuardedOutput y = GuardedOutput.floats(device, m * w.rows())) {
            mm.run(xb, db, m, List.of(new BlockMatmul.Product(dw, null, null, y.buffer())));
            assertTrue(y.guardsIntact(), "nothing written outside y");
            return y.readFloats();
        }
    }
}
