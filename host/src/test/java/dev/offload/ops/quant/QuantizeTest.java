package dev.offload.ops.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.quant.QuantizeReference.DynamicQuantized;
import dev.offload.ops.quant.QuantizeReference.RowQuantized;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class QuantizeTest {
    private static OpenClDevice device;
    private static Quantize quantize;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        quantize = new Quantize(device);
    }

    @AfterAll
    static void close() { device.close(); }

    /** Floats over several magnitudes, both signs, shifted by {@code offset}. */
    static float[] randomFloats(Random rnd, int n, float offset) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = offset + (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(3) - 1));
        return x;
    }

    static void assertSame(DynamicQuantized want, DynamicQuantized got) {
        assertEquals(Float.floatToIntBits(want.scale()), Float.floatToIntBits(got.scale()), "scale");
        assertEquals(want.zeroPoint(), got.zeroPoint(), "zero point");
        assertArrayEquals(want.data(), got.data());
    }

    @ParameterizedTest(name = "n={0} offset={1}")
    @CsvSource({"1, 0", "7, 0", "1000, 0", "65537, 0", "999, 40", "1234, -40"})
    void dynamicQuantizeLinearIsBitExactAgainstReference(int n, float offset) {
        float[] x = randomFloats(new Random(n), n, offset);
        assertSame(QuantizeReference.dynamicQuantizeLinear(x), quantize.dynamicQuantizeLinear(x));
    }

    @Test
    void dynamicQuantizeLinearFollowsOnnxFormulas() {
        // ONNX's example: x = [0, 2, -3, -2.5, 1.34, 0.5] -> scale 5/255, zero point 153.
        DynamicQuantized q = quantize.dynamicQuantizeLinear(new float[] {0f, 2f, -3f, -2.5f, 1.34f, 0.5f});
        assertEquals(5f / 255f, q.scale());
        assertEquals(153, q.zeroPoint());
        assertArrayEquals(new byte[] {(byte) 153, (byte) 255, 0, 26, (byte) 221, (byte) 179}, q.data());
        // All positive: min is taken as 0, so the zero point is 0.
        assertEquals(0, quantize.dynamicQuantizeLinear(new float[] {1f, 2f, 3f}).zeroPoint());
    }

    @Test
    void allZerosHaveOnnxRuntimesScaleOneOnBothUint8Kernels() {
        // ONNX Runtime's rule (DynamicQuantizeLinearOrtTest): an empty range has scale 1, zero point 0, values 0.
        DynamicQuantized perTensor = quantize.dynamicQuantizeLinear(new float[100]);   // dql_* kernels
        assertSame(QuantizeReference.dynamicQuantizeLinear(new float[100]), perTensor);
        assertEquals(1f, perTensor.scale());
        assertEquals(0, perTensor.zeroPoint());
        assertArrayEquals(new byte[100], perTensor.data());

        // dqg_* kernels, per sentence: sentence 1 is all zeros, sentence 0 and 2 are not; sentence 2 counts 0 tokens.
        int batch = 3, seq = 5, cols = 37;
        float[] x = randomFloats(new Random(5), batch * seq * cols, 0f);
        java.util.Arrays.fill(x, seq * cols, 2 * seq * cols, 0f);
        int[] lengths = {3, 4, 0};
        QuantizeReference.Quantized want = QuantizeReference.perSentenceUint8(x, batch, seq, cols, lengths);
        int rows = batch * seq;
        Quantize.Groups shape = new Quantize.Groups(batch, seq, cols, null);
        try (Buffer xb = device.upload(x); Buffer lb = device.upload(lengths);
             Buffer y = device.context().createBuffer(x.length);
             Buffer gs = device.context().createBuffer(4L * batch); Buffer gz = device.context().createBuffer(4L * batch);
             Buffer rs = device.context().createBuffer(4L * rows); Buffer rz = device.context().createBuffer(4L * rows);
             Buffer partial = device.context().createBuffer(Quantize.groupScratchBytes(shape))) {
            Quantize.Groups g = new Quantize.Groups(batch, seq, cols, lb);
            quantize.enqueueGroups(xb, g, y, gs, gz, rs, rz, partial, (k, global, local) -> device.launch(k, global, local).close());
            device.queue().finish();
            assertArrayEquals(want.data(), device.readBytes(y, x.length), "per-sentence data");
            assertArrayEquals(want.scales(), device.readFloats(rs, rows), "per-sentence scales");
            assertArrayEquals(want.zeroPoints(), device.readInts(rz, rows), "per-sentence zero points");
        }
        assertEquals(1f, want.scales()[seq], "the all-zero sentence's scale");
        assertEquals(0, want.zeroPoints()[seq], "the all-zero sentence's zero point");
    }

    /**
     * The one-launch form (a work-item per group) and the two-launch form (min/max partials, then a work-item per row)
     * give the reference's bits on the same input, whichever the device would pick: groups with and without counted
     * lengths, a group of zeros, a group with a NaN, one with an infinity, and sizes that leave vector tails.
     */
    @ParameterizedTest(name = "{0} groups of {1}x{2}")
    @CsvSource({"1, 128, 384", "1, 128, 1536", "3, 7, 37", "4, 5, 16", "2, 33, 129"})
    void perGroupQuantizeIsBitExactInOneLaunchAndInTwo(int groups, int rows, int cols) {
        Random rnd = new Random(groups * 1000 + cols);
        float[] x = randomFloats(rnd, groups * rows * cols, 0.5f);
        int[] lengths = new int[groups];
        for (int g = 0; g < groups; g++) lengths[g] = g % 3 == 0 ? rows : g % 3 == 1 ? 0 : Math.max(1, rows / 2);
        if (groups > 2) {
            java.util.Arrays.fill(x, rows * cols, 2 * rows * cols, 0f);   // group 1: zeros (scale 1, zero point 0)
            x[2 * rows * cols + 3] = Float.NaN;                          // group 2: a NaN among its counted rows
        }
        if (groups > 3) x[3 * rows * cols + cols + 1] = Float.NEGATIVE_INFINITY;
        for (int[] len : new int[][] {lengths, null}) {
            QuantizeReference.Quantized want = len != null ? QuantizeReference.perSentenceUint8(x, groups, rows, cols, len)
                    : QuantizeReference.perSentenceUint8(x, groups, rows, cols, fullLengths(groups, rows));
            for (boolean oneLaunch : new boolean[] {true, false}) {
                String what = (oneLaunch ? "one launch" : "two launches") + (len != null ? ", lengths" : ", no lengths");
                try (Buffer xb = device.upload(x); Buffer lb = device.upload(len != null ? len : new int[groups]);
                     Buffer y = device.context().createBuffer(x.length);
                     Buffer gs = device.context().createBuffer(4L * groups); Buffer gz = device.context().createBuffer(4L * groups);
                     Buffer rs = device.context().createBuffer(4L * groups * rows); Buffer rz = device.context().createBuffer(4L * groups * rows);
                     Buffer partial = device.context().createBuffer(Quantize.groupScratchBytes(new Quantize.Groups(groups, rows, cols, null)))) {
                    device.queue().fill(y, new byte[] {(byte) 0xA5}, 0, x.length).close();   // poison
                    Quantize.Groups g = new Quantize.Groups(groups, rows, cols, len != null ? lb : null);
                    quantize.enqueueGroups(xb, g, y, gs, gz, rs, rz, partial, (k, global, local) -> device.launch(k, global, local).close(), oneLaunch);
                    device.queue().finish();
                    assertArrayEquals(want.data(), device.readBytes(y, x.length), what + ": data");
                    float[] scales = device.readFloats(rs, groups * rows);
                    for (int i = 0; i < scales.length; i++) {
                        assertEquals(Float.floatToIntBits(want.scales()[i]), Float.floatToIntBits(scales[i]), what + ": scale of row " + i);
                    }
                    assertArrayEquals(want.zeroPoints(), device.readInts(rz, groups * rows), what + ": zero points");
                }
            }
        }
    }

    private static int[] fullLengths(int groups, int rows) {
        int[] a = new int[groups];
        java.util.Arrays.fill(a, rows);
        return a;
    }

    @Test
    void oneLaunchIsChosenForManyGroupsOrSmallOnes() {
        assertTrue(Quantize.inOneLaunch(new Quantize.Groups(8, 128, 1536, null), 2), "8 sentences on 2 cores");
        assertTrue(Quantize.inOneLaunch(new Quantize.Groups(1, 128, 384, null), 2), "one sentence of 49152 values");
        assertFalse(Quantize.inOneLaunch(new Quantize.Groups(1, 128, 1536, null), 2), "one sentence of 196608 values");
    }

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"1, 1", "3, 17", "64, 384", "5, 4099"})
    void symmetricPerRowIsBitExactAgainstReference(int rows, int cols) {
        float[] x = randomFloats(new Random(rows * 31 + cols), rows * cols, 0f);
        RowQuantized want = QuantizeReference.symmetricPerRow(x, rows, cols);
        RowQuantized got = quantize.symmetricPerRow(x, rows, cols);
        assertArrayEquals(want.scales(), got.scales());
        assertArrayEquals(want.data(), got.data());
    }

    @Test
    void symmetricPerRowGivesZeroRowsScaleZero() {
        float[] x = {0f, 0f, 0f, 1f, -2f, 0.5f};
        RowQuantized q = quantize.symmetricPerRow(x, 2, 3);
        assertArrayEquals(new float[] {0f, 2f / 127f}, q.scales());
        assertArrayEquals(new byte[] {0, 0, 0, 64, -127, 32}, q.data());
    }

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"1, 32", "3, 96", "17, 2080", "64, 2048"})
    void perBlockInt8IsBitExactAgainstReference(int rows, int cols) {
        float[] x = randomFloats(new Random(rows * 37 + cols), rows * cols, 0f);
        x[3] *= 1e6f;   // one block with a wide range
        QuantizeReference.Quantized want = QuantizeReference.perBlockInt8(x, rows, cols);
        QuantizeReference.Quantized got = quantize.perBlockInt8(x, rows, cols);
        assertArrayEquals(want.scales(), got.scales());
        assertArrayEquals(want.data(), got.data());
        assertArrayEquals(new int[1], got.zeroPoints());
    }

    @Test
    void perBlockInt8GivesNonFiniteBlocksNonFiniteScalesAndZeroValues() {
        float[] x = new float[3 * 32];
        for (int i = 0; i < x.length; i++) x[i] = i - 40;
        x[5] = Float.NaN;
        x[32 + 7] = Float.POSITIVE_INFINITY;
        QuantizeReference.Quantized want = QuantizeReference.perBlockInt8(x, 1, x.length);
        QuantizeReference.Quantized got = quantize.perBlockInt8(x, 1, x.length);
        assertTrue(Float.isNaN(want.scales()[0]) && Float.isNaN(got.scales()[0]), "a NaN block's scale is NaN");
        assertEquals(Float.POSITIVE_INFINITY, got.scales()[1], "an infinite block's scale is infinite");
        assertEquals(Q8Block.roundToHalf(55f / 127f), got.scales()[2], "block 2 holds 24..55: d = 55 / 127, as fp16");
        assertArrayEquals(new byte[64], java.util.Arrays.copyOf(got.data(), 64), "NaN and inf blocks quantize to 0");
        assertArrayEquals(want.data(), got.data());
        assertEquals(127, got.data()[95], "the finite block's largest value");
        assertThrows(IllegalArgumentException.class, () -> quantize.perBlockInt8(new float[40], 1, 40));
    }

    @ParameterizedTest
    @EnumSource(QuantParams.Axis.class)
    void dequantizeIsBitExactForEveryAxisAndType(QuantParams.Axis axis) {
        Random rnd = new Random(axis.ordinal());
        int rows = 13, cols = 29;
        for (QuantType type : QuantType.values()) {
            byte[] q = new byte[rows * cols];
            rnd.nextBytes(q);
            int count = switch (axis) { case TENSOR -> 1; case ROW -> rows; case COLUMN -> cols; };
            float[] scale = new float[count];
            int[] zp = new int[count];
            for (int i = 0; i < count; i++) { scale[i] = rnd.nextFloat() * 0.1f; zp[i] = type.min() + rnd.nextInt(256); }
            QuantParams params = new QuantParams(axis, scale, zp);
            float[] got;
            try (Buffer qb = device.upload(q); Buffer y = device.context().createBuffer(4L * q.length)) {
                device.queue().fill(y, new byte[] {0, 0, (byte) 0xC0, 0x7F}, 0, y.size()).await().close(); // NaN poison
                quantize.dequantize(qb, type, rows, cols, params, y);
                got = device.readFloats(y, q.length);
            }
            assertArrayEquals(QuantizeReference.dequantize(q, type, rows, cols, params), got, 0f, type + " " + axis);
        }
    }

    @Test
    void dequantizeRejectsParameterCountsThatDoNotFitTheShape() {
        var e = assertThrows(IllegalArgumentException.class, () -> quantize.dequantize(new byte[6], QuantType.INT8, 2, 3,
                QuantParams.perRow(new float[] {1f, 2f, 3f}, new int[] {0, 0, 0})));
        assertEquals("ROW parameters for a 2x3 tensor need 2 scales, got 3", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {5000})
    void joclBindingQuantizesTheSame(int n) {
        try (OpenClDevice jocl = new OpenClDevice(DeviceRegistry.discover(Binding.JOCL).resolve("cl:cpu").orElseThrow())) {
            float[] x = randomFloats(new Random(99), n, 3f);
            assertSame(QuantizeReference.dynamicQuantizeLinear(x), new Quantize(jocl).dynamicQuantizeLinear(x));
        }
    }
}
