package dev.offload.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.ops.blockq.BlockFormat;
import dev.offload.ops.blockq.BlockLinearBound;
import dev.offload.ops.blockq.BlockLinearReference;
import dev.offload.ops.blockq.BlockMatrix;
import dev.offload.ops.blockq.RandomBlocks;
import dev.offload.ops.quant.QuantizeReference;
import dev.offload.validate.CheckResult;
import java.lang.foreign.Arena;
import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The int8-block linear of the reference decoder, written apart from the graph's ops, against them: its quantization
 * is the per-block quantize node's bit for bit, and its linear is the exact value of the block dot products rounded
 * once, within {@link BlockLinearBound} of the block-linear reference that judges the kernels.
 */
class BlockInt8LinearTest {
    /** Seeded values, Gaussian at scales from 2^-6 to 2^5. */
    static float[] activations(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.pow(2, r.nextInt(-6, 6)));
        return x;
    }

    @Test
    void quantizationIsThePerBlockQuantizeNodesBitForBit() {
        int rows = 7, cols = 96;
        float[] x = activations(rows, cols, 3);
        java.util.Arrays.fill(x, 32, 64, 0f);           // an all-zero block: scale 0, values 0
        x[70] = Float.NaN;                              // a NaN: scale NaN, values 0
        x[130] = Float.POSITIVE_INFINITY;               // an infinity: scale infinite, values 0
        BlockInt8Linear.Blocks got = BlockInt8Linear.quantize(x, rows, cols);
        QuantizeReference.Quantized want = QuantizeReference.perBlockInt8(x, rows, cols);
        assertArrayEquals(want.data(), got.q());
        assertArrayEquals(want.scales(), got.scales());
        assertEquals(0f, got.scales()[1]);
        assertTrue(Float.isNaN(got.scales()[2]));
        assertEquals(Float.POSITIVE_INFINITY, got.scales()[4]);
    }

    @Test
    void halvesRoundAwayFromZeroAndTheScaleIsStoredAsFp16() {
        float[] x = new float[32];
        x[0] = 127f;                                    // amax 127: d = 1, id = 1, so x * id is x exactly
        x[1] = 0.5f;
        x[2] = -2.5f;
        x[3] = 3.5f;
        x[4] = -0.49999997f;
        BlockInt8Linear.Blocks b = BlockInt8Linear.quantize(x, 1, 32);
        assertArrayEquals(new byte[] {127, 1, -3, 4, 0}, java.util.Arrays.copyOf(b.q(), 5), "roundf, not rint: halves away from zero");
        x[0] = 100f;                                    // d = 100 / 127, not an fp16 value: the stored scale is its fp16 rounding
        float d = 100f / 127f;
        float scale = BlockInt8Linear.quantize(x, 1, 32).scales()[0];
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(d)), scale);
        assertTrue(scale != d);
    }

    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void theLinearIsTheExactBlockDotProductRoundedOnceWithinTheKernelBoundOfTheBlockLinearReference(BlockFormat format) {
        int m = 5, in = format.superBlocks() ? 512 : 160, out = 24;   // whole super-blocks for Q4_K and Q6_K
        SplittableRandom r = new SplittableRandom(11);
        try (Arena arena = Arena.ofConfined()) {
            BlockMatrix w = RandomBlocks.weight(format, out, in, r, arena);
            float[] rowMajor = w.dequantize(), weights = new float[in * out];   // [out][in] as ggml stores it -> [in][out]
            for (int j = 0; j < out; j++) for (int k = 0; k < in; k++) weights[k * out + j] = rowMajor[j * in + k];
            float[] bias = new float[out];
            for (int j = 0; j < out; j++) bias[j] = (float) r.nextGaussian();
            float[] x = activations(m, in, 5);

            float[] got = BlockInt8Linear.linear(x, weights, bias, m, in, out);

            QuantizeReference.Quantized q = QuantizeReference.perBlockInt8(x, m, in);
            float[] exact = new float[m * out];
            for (int row = 0; row < m; row++) {
                for (int j = 0; j < out; j++) {
                    BigDecimal sum = new BigDecimal(bias[j]);
                    for (int k = 0; k < in; k++) {
                        sum = sum.add(new BigDecimal(q.scales()[row * in / 32 + k / 32]).multiply(new BigDecimal(q.data()[row * in + k]))
                                .multiply(new BigDecimal(weights[k * out + j])));
                    }
                    exact[row * out + j] = sum.floatValue();
                }
            }
            assertArrayEquals(exact, got, "the exact value, correctly rounded");

            float[] kernelJudge = BlockLinearReference.linear(q.data(), q.scales(), m, w, bias);
            CheckResult c = BlockLinearBound.compare("block linear", m + "x" + in + "x" + out, "int8-block reference", kernelJudge, got,
                    BlockLinearBound.bounds(q.data(), q.scales(), m, w, bias), true);
            assertTrue(c.passed(), c.toString());
        }
    }

    @Test
    void partialBlocksAndMismatchedShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> BlockInt8Linear.quantize(new float[48], 1, 48));
        assertThrows(IllegalArgumentException.class, () -> BlockInt8Linear.quantize(new float[64], 3, 32));
    }
}
