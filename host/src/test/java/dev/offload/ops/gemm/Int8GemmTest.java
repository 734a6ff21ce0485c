package dev.offload.ops.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.quant.QuantType;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class Int8GemmTest {
    private static OpenClDevice device;
    private static Int8Gemm gemm;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        gemm = Int8Gemm.on(device);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static Int8Matrix random(Random rnd, QuantType type, int rows, int cols) {
        byte[] d = new byte[rows * cols];
        rnd.nextBytes(d);
        return new Int8Matrix(type, rows, cols, d);
    }

    static int[] randomInts(Random rnd, int n, QuantType type) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = type.min() + rnd.nextInt(256);
        return v;
    }

    /** Runs into a poisoned output buffer, so elements the kernel forgets to write fail the comparison. */
    static int[] runPoisoned(Int8Matrix a, ZeroPoint za, PackedWeights w) {
        try (Buffer ab = device.upload(a.data()); Buffer out = device.context().createBuffer(4L * a.rows() * w.n())) {
            device.queue().fill(out, new byte[] {0x7B, 0x7F, 0x7F, 0x7F}, 0, out.size()).await().close();
            gemm.run(ab, a.type(), a.rows(), za, w, Epilogue.INT32, out);
            return device.readInts(out, a.rows() * w.n());
        }
    }

    @ParameterizedTest(name = "{0}x{1}x{2} {3}x{4}")
    @CsvSource({
            "1, 1, 1, INT8, INT8", "7, 13, 29, UINT8, INT8", "5, 3, 17, INT8, UINT8", "33, 31, 47, UINT8, UINT8",
            "1, 515, 333, UINT8, INT8", "37, 1, 1000, INT8, INT8", "64, 48, 256, UINT8, INT8", "9, 10, 20000, INT8, UINT8"})
    void gemmMatchesReferenceForScalarZeroPointsOverAwkwardShapes(int m, int n, int k, QuantType at, QuantType bt) {
        Random rnd = new Random(31L * m + 7L * n + k);
        Int8Matrix a = random(rnd, at, m, k), b = random(rnd, bt, k, n);
        ZeroPoint za = ZeroPoint.scalar(randomInts(rnd, 1, at)[0]), zb = ZeroPoint.scalar(randomInts(rnd, 1, bt)[0]);
        try (PackedWeights w = gemm.pack(b, zb)) {
            assertArrayEquals(Int8GemmReference.matmulInteger(a, za, b, zb), runPoisoned(a, za, w));
        }
    }

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void gemmMatchesReferenceForPerRowAndPerColumnZeroPoints(QuantType type) {
        Random rnd = new Random(5 + type.ordinal());
        int m = 23, n = 19, k = 101;
        Int8Matrix a = random(rnd, type, m, k), b = random(rnd, QuantType.INT8, k, n);
        ZeroPoint za = ZeroPoint.perRow(randomInts(rnd, m, type)), zb = ZeroPoint.perColumn(randomInts(rnd, n, QuantType.INT8));
        try (PackedWeights w = gemm.pack(b, zb)) {
            assertTrue(w.needsRowSums());
            assertArrayEquals(Int8GemmReference.matmulInteger(a, za, b, zb), runPoisoned(a, za, w));
        }
    }

    @Test
    void gemmWrapsInThirtyTwoBitsLikeJavaIntArithmetic() {
        // 131072 products of (-128 - 127) * (-128 - 127) = 65025 sum to 8.5e9: far past 2^31.
        int m = 2, n = 3, k = 131072;
        byte[] ad = new byte[m * k], bd = new byte[k * n];
        Arrays.fill(ad, (byte) -128);
        Arrays.fill(bd, (byte) -128);
        Int8Matrix a = new Int8Matrix(QuantType.INT8, m, k, ad), b = new Int8Matrix(QuantType.INT8, k, n, bd);
        ZeroPoint za = ZeroPoint.scalar(127), zb = ZeroPoint.scalar(127);
        int[] want = Int8GemmReference.matmulInteger(a, za, b, zb);
        assertEquals((int) (65025L * k), want[0]);
        try (PackedWeights w = gemm.pack(b, zb)) {
            assertArrayEquals(want, gemm.matmulInteger(a, za, w));
        }
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void dequantizeEpilogueMatchesDoubleReferenceWithinStatedBound(Activation act) {
        Random rnd = new Random(11 + act.ordinal());
        int m = 19, n = 21, k = 77;
        Int8Matrix a = random(rnd, QuantType.UINT8, m, k), b = random(rnd, QuantType.INT8, k, n);
        ZeroPoint za = ZeroPoint.scalar(131), zb = ZeroPoint.perColumn(randomInts(rnd, n, QuantType.INT8));
        float[] sa = new float[m], sb = new float[n], bias = new float[n];
        for (int i = 0; i < m; i++) sa[i] = 1e-3f * (1 + rnd.nextFloat());
        for (int j = 0; j < n; j++) { sb[j] = 1e-3f * (1 + rnd.nextFloat()); bias[j] = rnd.nextFloat() - 0.5f; }
        // Scales make |y| span about -3..3 so the activations' curved parts are exercised.
        Epilogue.Dequantize d = new Epilogue.Dequantize(sa, sb, act == Activation.RELU ? null : bias, act);
        float[] want = Int8GemmReference.dequantize(Int8GemmReference.matmulInteger(a, za, b, zb), m, n, d);
        try (PackedWeights w = gemm.pack(b, zb)) {
            float[] got = gemm.dequantize(a, za, w, d);
            assertRelativeError(want, got, GemmBounds.dequantize(act));
        }
    }

    @Test
    void dequantizeEpilogueTakesPerTensorScales() {
        Random rnd = new Random(3);
        int m = 6, n = 10, k = 40;
        Int8Matrix a = random(rnd, QuantType.INT8, m, k), b = random(rnd, QuantType.INT8, k, n);
        Epilogue.Dequantize d = new Epilogue.Dequantize(new float[] {0.02f}, new float[] {0.5f}, null, Activation.NONE);
        float[] want = Int8GemmReference.dequantize(Int8GemmReference.matmulInteger(a, ZeroPoint.scalar(3), b, ZeroPoint.scalar(0)), m, n, d);
        try (PackedWeights w = gemm.pack(b, ZeroPoint.scalar(0))) {
            assertRelativeError(want, gemm.dequantize(a, ZeroPoint.scalar(3), w, d), GemmBounds.dequantize(Activation.NONE));
        }
    }

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void requantizeEpilogueIsBitExactIncludingSaturation(QuantType out) {
        Random rnd = new Random(17 + out.ordinal());
        int m = 13, n = 29, k = 64;
        Int8Matrix a = random(rnd, QuantType.UINT8, m, k), b = random(rnd, QuantType.INT8, k, n);
        ZeroPoint za = ZeroPoint.scalar(128), zb = ZeroPoint.scalar(0);
        float[] scale = new float[n];
        for (int j = 0; j < n; j++) scale[j] = 2e-3f * (1 + rnd.nextFloat()); // some outputs saturate
        Epilogue.Requantize r = new Epilogue.Requantize(scale, out == QuantType.INT8 ? -3 : 120, out);
        byte[] want = Int8GemmReference.requantize(Int8GemmReference.matmulInteger(a, za, b, zb), m, n, r);
        try (PackedWeights w = gemm.pack(b, zb)) {
            assertArrayEquals(want, gemm.requantize(a, za, w, r));
        }
        long saturated = 0;
        for (byte q : want) if (out.value(q) == out.min() || out.value(q) == out.max()) saturated++;
        assertTrue(saturated > 0 && saturated < want.length, "the test data should saturate some outputs, not all");
    }

    @Test
    void requantizeRoundsHalfToEven() {
        // C = 1..8 times 0.5 lands exactly on ties: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4.
        int k = 1, n = 8;
        byte[] bd = new byte[n];
        for (int j = 0; j < n; j++) bd[j] = (byte) (j + 1);
        Int8Matrix a = new Int8Matrix(QuantType.INT8, 1, k, new byte[] {1}), b = new Int8Matrix(QuantType.INT8, k, n, bd);
        Epilogue.Requantize r = Epilogue.Requantize.of(0.5f, 0, QuantType.INT8);
        try (PackedWeights w = gemm.pack(b, ZeroPoint.scalar(0))) {
            assertArrayEquals(new byte[] {0, 1, 2, 2, 2, 3, 4, 4}, gemm.requantize(a, ZeroPoint.scalar(0), w, r));
        }
    }

    @ParameterizedTest
    @EnumSource(GemmConfig.InnerLoop.class)
    void everyInnerLoopAndBlockShapeComputesTheSameResults(GemmConfig.InnerLoop loop) {
        assumeTrue(loop != GemmConfig.InnerLoop.X86_VNNI || HostCpu.hasAvx512Vnni(), "this CPU has no AVX512-VNNI");
        assumeTrue(loop != GemmConfig.InnerLoop.X86_AMX || HostCpu.hasAmxInt8(), "this CPU (or process) has no AMX int8 tiles");
        GemmConfig dot = switch (loop) {
            case X86_VNNI -> new DirectGemmConfig(3, 48, loop, 0);
            case X86_AMX -> new DirectGemmConfig(32, 64, loop, 0);
            default -> new DirectGemmConfig(3, 5, loop, 0);
        };
        Random rnd = new Random(23);
        Int8Matrix a = random(rnd, QuantType.UINT8, 11, 211), b = random(rnd, QuantType.INT8, 211, 53); // 211 = 3*64+16+3
        ZeroPoint za = ZeroPoint.scalar(100), zb = ZeroPoint.perColumn(randomInts(rnd, 53, QuantType.INT8));
        Int8Gemm g = new Int8Gemm(device, dot);
        try (PackedWeights w = g.pack(b, zb)) {
            assertArrayEquals(Int8GemmReference.matmulInteger(a, za, b, zb), g.matmulInteger(a, za, w));
        }
    }

    /**
     * AMX at its tails: rows past M in the first and the second row tile (1, 16, 17, 31, 33 rows), K % 64 staged
     * (64, 130, 1000) or not, N past a tile and past a block, int8 A (tdpbssd) and uint8 A (tdpbusd), zero points per
     * row and column (the row sums) and scalar; into a poisoned output.
     */
    @ParameterizedTest(name = "{0}x{1}x{2} A {3}, block {4}x{5}")
    @CsvSource({
            "1, 45, 130, INT8, 32, 64", "16, 64, 64, UINT8, 32, 64", "17, 31, 64, INT8, 32, 32", "31, 100, 200, UINT8, 32, 96",
            "33, 70, 1000, UINT8, 32, 64", "64, 96, 384, INT8, 16, 32", "100, 257, 384, UINT8, 32, 128"})
    void amxTilesMatchTheReferenceAtEveryTail(int m, int n, int k, QuantType at, int mr, int nr) {
        assumeTrue(HostCpu.hasAmxInt8(), "this CPU (or process) has no AMX int8 tiles");
        Random rnd = new Random(41L * m + 13L * n + k);
        Int8Matrix a = random(rnd, at, m, k), b = random(rnd, QuantType.INT8, k, n);
        ZeroPoint za = m % 2 == 0 ? ZeroPoint.scalar(randomInts(rnd, 1, at)[0]) : ZeroPoint.perRow(randomInts(rnd, m, at));
        ZeroPoint zb = n % 2 == 0 ? ZeroPoint.scalar(0) : ZeroPoint.perColumn(randomInts(rnd, n, QuantType.INT8));
        Int8Gemm g = new Int8Gemm(device, new DirectGemmConfig(mr, nr, GemmConfig.InnerLoop.X86_AMX, 0));
        try (PackedWeights w = g.pack(b, zb); Buffer ab = device.upload(a.data());
             Buffer out = device.context().createBuffer(4L * m * n)) {
            device.queue().fill(out, new byte[] {0x7B, 0x7F, 0x7F, 0x7F}, 0, out.size()).await().close();
            g.run(ab, a.type(), m, za, w, Epilogue.INT32, out);
            assertArrayEquals(Int8GemmReference.matmulInteger(a, za, b, zb), device.readInts(out, m * n));
        }
    }

    @Test
    void joclBindingGivesTheSameResults() {
        try (OpenClDevice jocl = new OpenClDevice(DeviceRegistry.discover(Binding.JOCL).resolve("cl:cpu").orElseThrow())) {
            Int8Gemm g = Int8Gemm.on(jocl);
            Random rnd = new Random(29);
            Int8Matrix a = random(rnd, QuantType.UINT8, 17, 45), b = random(rnd, QuantType.UINT8, 45, 14);
            ZeroPoint za = ZeroPoint.perRow(randomInts(rnd, 17, QuantType.UINT8)), zb = ZeroPoint.scalar(77);
            try (PackedWeights w = g.pack(b, zb)) {
                assertArrayEquals(Int8GemmReference.matmulInteger(a, za, b, zb), g.matmulInteger(a, za, w));
            }
        }
    }

    @Test
    void mismatchedShapesAreRejectedWithTheNumbersInTheMessage() {
        Random rnd = new Random(1);
        Int8Matrix b = random(rnd, QuantType.INT8, 8, 4);
        assertThrows(IllegalArgumentException.class, () -> gemm.pack(b, ZeroPoint.perColumn(1, 2, 3)));
        assertThrows(IllegalArgumentException.class, () -> gemm.pack(b, ZeroPoint.perRow(1, 2, 3, 4)));
        try (PackedWeights w = gemm.pack(b, ZeroPoint.scalar(0))) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> gemm.matmulInteger(random(rnd, QuantType.INT8, 2, 9), ZeroPoint.scalar(0), w));
            assertTrue(e.getMessage().contains("K=8"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> gemm.matmulInteger(random(rnd, QuantType.INT8, 2, 8), ZeroPoint.perRow(1, 2, 3), w));
        }
    }

    static void assertRelativeError(float[] want, float[] got, double bound) {
        assertEquals(want.length, got.length);
        double max = 0, err = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i]));
            err = Math.max(err, Math.abs((double) got[i] - want[i]));
            assertTrue(Float.isFinite(got[i]), "element " + i + " is " + got[i]);
        }
        assertTrue(err <= bound * max, "max error " + err + " exceeds " + bound + " x max|y| = " + bound * max);
    }
}
