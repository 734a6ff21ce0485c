package dev.offload.ops.blockq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.offload.ops.quant.QuantizeReference;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * ggml's reference quantizers, bit for bit as llama.cpp's gguf-py quantizes (known-answer vectors in
 * src/test/resources/dev/offload/ops/blockq, made by make_quant_vectors.py there: seeded rows over 13 orders of
 * magnitude, roundf's halves, fp16 ties, subnormal and overflowing scales, zeros).
 */
class BlockMatrixQuantizeTest {
    static byte[] resource(String name) throws Exception {
        try (InputStream in = BlockMatrixQuantizeTest.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing test vector " + name);
            return in.readAllBytes();
        }
    }

    static float[] input() throws Exception {
        byte[] raw = resource("input.f32");
        float[] x = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
        return x;
    }

    @ParameterizedTest
    @EnumSource(value = BlockFormat.class, names = {"Q8_0", "Q4_0"})
    void quantizesAsGgufPyDoes(BlockFormat format) throws Exception {
        float[] x = input();
        byte[] want = resource(format + ".blocks");
        try (Arena arena = Arena.ofConfined()) {
            BlockMatrix m = BlockMatrix.quantize(format, x, x.length / 64, 64, arena);
            byte[] got = m.blocks().toArray(ValueLayout.JAVA_BYTE);
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                int block = i / format.blockBytes();
                assertEquals(want[i], got[i], format + " block " + block + " byte " + i % format.blockBytes());
            }
        }
    }

    @Test
    void activationsQuantizeAsQ8_0Weights() throws Exception {
        // The graph's per-block int8 quantize is the same quantizer: its data and scales are the Q8_0 blocks'.
        float[] x = input();
        byte[] blocks = resource("Q8_0.blocks");
        QuantizeReference.Quantized q = QuantizeReference.perBlockInt8(x, x.length / 64, 64);
        MemorySegment s = MemorySegment.ofArray(blocks);
        for (int b = 0; b < x.length / 32; b++) {
            short d = s.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), b * 34L);
            assertEquals(Float.float16ToFloat(d), q.scales()[b], "block " + b + " scale");
            for (int i = 0; i < 32; i++) assertEquals(blocks[b * 34 + 2 + i], q.data()[b * 32 + i], "block " + b + " value " + i);
        }
    }

    @Test
    void knownAnswersOfTheEdgeBlocks() throws Exception {
        float[] x = input();
        QuantizeReference.Quantized q = QuantizeReference.perBlockInt8(x, x.length / 64, 64);
        // Block 0: amax 127, d = 1; roundf rounds the halves away from zero (rint would give 0, -0, 2, -2, 2, -2, 126, -126).
        assertEquals(1f, q.scales()[0]);
        assertArrayEquals(new byte[] {1, -1, 2, -2, 3, -3, 127, -127}, java.util.Arrays.copyOf(q.data(), 8));
        assertEquals(1f, q.scales()[1], "1 + 2^-11 is an fp16 tie: to even, 1");
        assertEquals(0x1p-23f, q.scales()[2], "1.5 * 2^-24 is a tie among fp16 subnormals: to even, 2 * 2^-24");
        assertEquals(Float.POSITIVE_INFINITY, q.scales()[4], "65520 rounds to fp16 infinity");
        assertEquals(65504f, q.scales()[5]);
        assertEquals(0f, q.scales()[6], "zeros: d = 0, id = 0");
    }

    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void dequantizeIsGgmlsDecodeAndQ8_0SurvivesARoundTrip(BlockFormat format) {
        SplittableRandom rnd = new SplittableRandom(3 + format.ordinal());
        try (Arena arena = Arena.ofConfined()) {
            int k = format.superBlocks() ? 512 : 96;
            BlockMatrix w = RandomBlocks.weight(format, 5, k, rnd, arena);
            float[] v = w.dequantize();
            for (int r = 0; r < 5; r++) {
                // The decoded parts make ggml's value in ggml's float steps: (d * scale) * q - dmin * min.
                WeightRow row = new WeightRow(format, k).read(w, r);
                for (int i = 0; i < k; i++) {
                    int b = i / 32;
                    float want = row.d[b] * (i % 32 < 16 ? row.scaleLo[b] : row.scaleHi[b]) * row.q[i];
                    if (row.hasMins()) want = want - row.dmin[b] * row.min[b];
                    assertEquals(want, v[r * k + i], format + " row " + r + " value " + i);
                }
            }
            if (format == BlockFormat.Q8_0) {
                // Blocks whose largest |q| is 127 come back unchanged: d = 127 |d| / 127, and q * d * (1 / d) rounds to q.
                float[] w127 = new float[32 * 4];
                for (int i = 0; i < w127.length; i++) w127[i] = ((i % 32 == 7) ? 127 : rnd.nextInt(-127, 128)) * 0.0123f;
                BlockMatrix q = BlockMatrix.quantize(format, w127, 4, 32, arena);
                BlockMatrix again = BlockMatrix.quantize(format, q.dequantize(), 4, 32, arena);
                assertArrayEquals(q.blocks().toArray(ValueLayout.JAVA_BYTE), again.blocks().toArray(ValueLayout.JAVA_BYTE));
            }
            assertFalse(w.readableEverywhere(), "a confined arena's blocks are read on the calling thread only");
        }
    }
}
