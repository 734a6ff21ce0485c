package dev.offload.ops.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.cl.ClException;
import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.KernelStyle;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.quant.QuantType;
import dev.offload.tuning.TunedEntry;
import dev.offload.validate.CheckResult;
import dev.offload.validate.Compare;
import dev.offload.validate.GuardedOutput;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The tiled (local-memory) INT8 GEMM family on PoCL: exact against the reference at shapes no tile divides. */
class TiledInt8GemmTest {
    private static OpenClDevice device;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static Stream<TiledGemmConfig> validationSets() { return TiledGemmConfig.validationSets().stream(); }

    /** Runs into a guarded, poisoned output: elements left unwritten or written out of bounds fail. */
    private static int[] run(Int8Gemm gemm, Int8Matrix a, ZeroPoint za, PackedWeights w) {
        try (Buffer ab = device.upload(a.data()); GuardedOutput g = GuardedOutput.ints(device, a.rows() * w.n())) {
            gemm.run(ab, a.type(), a.rows(), za, w, Epilogue.INT32, g.buffer());
            assertTrue(g.guardsIntact(), "the kernel wrote outside C");
            return g.readInts();
        }
    }

    @ParameterizedTest
    @MethodSource("validationSets")
    void tiledGemmIsBitExactForEveryShapeOfTheAwkwardGrid(TiledGemmConfig config) {
        Int8Gemm gemm = new Int8Gemm(device, config, false);
        QuantType[] types = QuantType.values();
        Random rnd = new Random(config.hashCode());
        int i = 0;
        for (int m : new int[] {1, 7, 33}) {
            for (int n : new int[] {5, 67}) {
                for (int k : new int[] {1, 31, 100, 384}) {
                    QuantType at = types[i % 2], bt = types[(i / 2) % 2];
                    boolean perChannel = i++ % 3 != 0;
                    Int8Matrix a = Int8GemmTest.random(rnd, at, m, k), b = Int8GemmTest.random(rnd, bt, k, n);
                    ZeroPoint za = perChannel ? ZeroPoint.perRow(Int8GemmTest.randomInts(rnd, m, at)) : ZeroPoint.scalar(Int8GemmTest.randomInts(rnd, 1, at)[0]);
                    ZeroPoint zb = perChannel ? ZeroPoint.perColumn(Int8GemmTest.randomInts(rnd, n, bt)) : ZeroPoint.scalar(Int8GemmTest.randomInts(rnd, 1, bt)[0]);
                    try (PackedWeights w = gemm.pack(b, zb)) {
                        assertArrayEquals(Int8GemmReference.matmulInteger(a, za, b, zb), run(gemm, a, za, w),
                                config.brief() + " at " + m + "x" + k + "x" + n + " " + at + "*" + bt);
                    }
                }
            }
        }
    }

    @Test
    void tiledGemmWrapsLikeInt32WhereTheExactSumOverflows() {
        // K = 70000 of (-128 - 127) * (-128 - 127) ~ 4.5e9: past 2^31, so the result must wrap as the reference's int does.
        TiledGemmConfig config = TiledGemmConfig.validationSets().get(5);
        Int8Gemm gemm = new Int8Gemm(device, config, false);
        int k = 70000, m = 3, n = 2;
        byte[] ad = new byte[m * k], bd = new byte[k * n];
        java.util.Arrays.fill(ad, (byte) -128);
        java.util.Arrays.fill(bd, (byte) -128);
        Int8Matrix a = new Int8Matrix(QuantType.INT8, m, k, ad), b = new Int8Matrix(QuantType.INT8, k, n, bd);
        ZeroPoint za = ZeroPoint.scalar(127), zb = ZeroPoint.scalar(127);
        try (PackedWeights w = gemm.pack(b, zb)) {
            int[] want = Int8GemmReference.matmulInteger(a, za, b, zb);
            assertEquals((int) (70000L * 255 * 255), want[0]);
            assertArrayEquals(want, run(gemm, a, za, w));
        }
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void tiledDequantizeEpilogueMatchesTheReferenceForEveryActivation(Activation activation) {
        TiledGemmConfig config = TiledGemmConfig.validationSets().get(activation.ordinal() % 5); // a different set each
        Int8Gemm gemm = new Int8Gemm(device, config, false);
        Random rnd = new Random(11 + activation.ordinal());
        int m = 33, k = 100, n = 67;
        Int8Matrix a = Int8GemmTest.random(rnd, QuantType.UINT8, m, k), b = Int8GemmTest.random(rnd, QuantType.INT8, k, n);
        ZeroPoint za = ZeroPoint.perRow(Int8GemmTest.randomInts(rnd, m, QuantType.UINT8)), zb = ZeroPoint.scalar(3);
        int[] exact = Int8GemmReference.matmulInteger(a, za, b, zb);
        float[] sa = new float[m], sb = new float[n], bias = new float[n];
        for (int i = 0; i < m; i++) sa[i] = 0.002f * (1 + rnd.nextFloat());
        for (int j = 0; j < n; j++) {
            sb[j] = 0.003f * (1 + rnd.nextFloat());
            bias[j] = rnd.nextFloat() * 2 - 1;
        }
        Epilogue.Dequantize d = new Epilogue.Dequantize(sa, sb, bias, activation);
        float[] want = Int8GemmReference.dequantize(exact, m, n, d);
        try (PackedWeights w = gemm.pack(b, zb); Buffer ab = device.upload(a.data()); GuardedOutput g = GuardedOutput.floats(device, m * n)) {
            gemm.run(ab, a.type(), m, za, w, d, g.buffer());
            CheckResult r = Compare.relative("int8_gemm", config.brief(), device.spec(), want, g.readFloats(),
                    GemmBounds.dequantize(activation), g.guardsIntact());
            assertTrue(r.passed(), r.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void tiledRequantizeEpilogueIsBitExact(QuantType outType) {
        TiledGemmConfig config = TiledGemmConfig.validationSets().get(outType == QuantType.INT8 ? 2 : 9);
        Int8Gemm gemm = new Int8Gemm(device, config, false);
        Random rnd = new Random(23 + outType.ordinal());
        int m = 7, k = 384, n = 67;
        Int8Matrix a = Int8GemmTest.random(rnd, QuantType.INT8, m, k), b = Int8GemmTest.random(rnd, QuantType.UINT8, k, n);
        ZeroPoint za = ZeroPoint.scalar(-5), zb = ZeroPoint.perColumn(Int8GemmTest.randomInts(rnd, n, QuantType.UINT8));
        float[] scale = new float[n];
        for (int j = 0; j < n; j++) scale[j] = 1e-4f * (1 + rnd.nextFloat());
        Epilogue.Requantize r = new Epilogue.Requantize(scale, outType.min() + 100, outType);
        byte[] want = Int8GemmReference.requantize(Int8GemmReference.matmulInteger(a, za, b, zb), m, n, r);
        try (PackedWeights w = gemm.pack(b, zb); Buffer ab = device.upload(a.data()); GuardedOutput g = GuardedOutput.bytes(device, m * n)) {
            gemm.run(ab, a.type(), m, za, w, r, g.buffer());
            assertTrue(g.guardsIntact());
            assertArrayEquals(want, g.readBytes());
        }
    }

    @Test
    void bIsPackedTransposedWithColumnsPaddedToTheTileAndKToTheStep() {
        TiledGemmConfig config = TiledGemmConfig.validationSets().get(4); // 24x40 tiles, K steps of 12
        try (PackedWeights w = new Int8Gemm(device, config, false).pack(Int8GemmTest.random(new Random(1), QuantType.INT8, 31, 67), ZeroPoint.scalar(0))) {
            assertEquals(80, w.nPadded());
            assertEquals(36, w.stride());
            assertEquals(80L * 36, w.packed().size());
        }
    }

    @Test
    void theKernelRequiresTheWorkGroupTheHostLaunches() {
        for (TiledGemmConfig c : List.of(TiledGemmConfig.validationSets().get(0), TiledGemmConfig.validationSets().get(4))) {
            String options = c.defines() + " " + Epilogue.INT32.defines();
            try (dev.offload.cl.Kernel k = device.program(KernelFamily.INT8_GEMM_TILED, options).kernel(c.kernelName())) {
                assertArrayEquals(new long[] {c.ndimc(), c.mdimc(), 1}, k.requiredWorkGroupSize(), c.brief());
            }
            assertArrayEquals(new long[] {c.ndimc(), c.mdimc()}, c.localSize());
            long[] global = c.globalSize(33, 80);
            assertEquals(0, global[0] % c.ndimc());
            assertEquals(0, global[1] % c.mdimc());
            assertEquals((80 / c.nwg()) * c.ndimc(), global[0], "one work-group per NWG columns of padded B");
            assertEquals((33 + c.mwg() - 1) / c.mwg() * c.mdimc(), global[1], "one work-group per MWG rows of A, the last partial");
        }
    }

    @Test
    void configurationRefusesParametersThatBreakTheTileRelations() {
        GemmConfig.InnerLoop dot = GemmConfig.InnerLoop.DOT_PRODUCT;
        assertThrows(IllegalArgumentException.class, () -> new TiledGemmConfig(64, 64, 32, 16, 16, 8, 4, true, true, dot)); // MWG % (MDIMC*VWM)
        assertThrows(IllegalArgumentException.class, () -> new TiledGemmConfig(64, 48, 32, 16, 16, 4, 4, true, true, dot)); // NWG % (NDIMC*VWN)
        assertThrows(IllegalArgumentException.class, () -> new TiledGemmConfig(64, 64, 30, 16, 16, 4, 4, true, true, dot)); // KWG % 4
        assertThrows(IllegalArgumentException.class, () -> new TiledGemmConfig(64, 64, 32, 16, 16, 3, 4, true, true, dot)); // VWM in 1, 2, 4, 8
        assertThrows(IllegalArgumentException.class, () -> new TiledGemmConfig(128, 128, 32, 8, 8, 1, 1, true, true, dot)); // 16x16 accumulators
        assertThrows(IllegalArgumentException.class, () -> new TiledGemmConfig(256, 256, 128, 32, 32, 1, 1, true, true, dot)); // 64 KiB of tiles
        assertThrows(IllegalArgumentException.class, () -> new TiledGemmConfig(64, 64, 32, 16, 16, 4, 4, true, true, GemmConfig.InnerLoop.X86_VNNI));
    }

    private static DeviceInfo as(DeviceType type) { return GemmConfigResolveTest.copy(device.info(), type, device.info().driverVersion()); }

    @Test
    void gpusGetTheTiledFamilyAndCpusAndFpgaStyleTheDirectOne() {
        assertInstanceOf(TiledGemmConfig.class, GemmConfig.forDevice(as(DeviceType.GPU), KernelStyle.PORTABLE));
        assertInstanceOf(DirectGemmConfig.class, GemmConfig.forDevice(as(DeviceType.CPU), KernelStyle.PORTABLE));
        assertInstanceOf(DirectGemmConfig.class, GemmConfig.forDevice(as(DeviceType.GPU), KernelStyle.FPGA));
        assertInstanceOf(DirectGemmConfig.class, GemmConfig.forDevice(as(DeviceType.ACCELERATOR), KernelStyle.FPGA));
    }

    @Test
    void tuningEntriesRoundTripBothFamiliesAndOldEntriesReadAsDirect() {
        for (GemmConfig c : List.<GemmConfig>of(TiledGemmConfig.validationSets().get(4), DirectGemmConfig.forDevice(device.info()))) {
            TunedEntry e = new TunedEntry(GemmConfig.OP, "dev", "1", c.toParams(), null, null, null);
            assertEquals(c, GemmConfig.fromParams(e));
        }
        TunedEntry bad = new TunedEntry(GemmConfig.OP, "dev", "1", java.util.Map.of("family", "systolic"), null, null, null);
        assertThrows(IllegalArgumentException.class, () -> GemmConfig.fromParams(bad));
    }

    @Test
    void fpgaStyleDevicesRefuseTheTiledFamily() {
        try (OpenClDevice fpga = new OpenClDevice(device.device())) {
            fpga.kernelStyle(KernelStyle.FPGA);
            assertThrows(IllegalArgumentException.class, () -> new Int8Gemm(fpga, TiledGemmConfig.validationSets().getFirst(), false));
            // And the kernel file itself refuses the FPGA style, with the reason.
            String options = TiledGemmConfig.validationSets().getFirst().defines() + " " + Epilogue.INT32.defines();
            ClException e = assertThrows(ClException.class, () -> fpga.program(KernelFamily.INT8_GEMM_TILED, options));
            assertTrue(e.getMessage().contains("not built in FPGA style"), e.getMessage());
        }
    }
}
