package dev.offload.model.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * ggml block formats decode bit for bit as llama.cpp's gguf-py decodes them: known-answer vectors of seeded random
 * blocks (src/test/resources/dev/offload/model/gguf/dequant, made by make_vectors.py there with gguf-py).
 */
class GgmlBlocksTest {
    static byte[] resource(String name) throws Exception {
        try (InputStream in = GgmlBlocksTest.class.getResourceAsStream("dequant/" + name)) {
            if (in == null) throw new IllegalStateException("missing test vector " + name);
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16"})
    void decodesAsLlamaCppsGgufPyDoes(GgmlType type) throws Exception {
        byte[] blocks = resource(type + ".blocks"), expected = resource(type + ".f32");
        int count = expected.length / 4;
        assertEquals(blocks.length / type.blockBytes() * type.blockSize(), count, "vector sizes");
        float[] want = new float[count];
        ByteBuffer.wrap(expected).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(want);
        // Decode at an odd offset inside a bigger segment: blocks need no alignment.
        MemorySegment seg = MemorySegment.ofArray(new byte[blocks.length + 3]);
        MemorySegment.copy(MemorySegment.ofArray(blocks), 0, seg, 3, blocks.length);
        float[] got = new float[count + 2];
        got[0] = got[count + 1] = 12345f;
        GgmlBlocks.decode(type, seg, 3, count, got, 1);
        for (int i = 0; i < count; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i + 1]), type + " element " + i + ": " + want[i] + " vs " + got[i + 1]);
        }
        assertEquals(12345f, got[0]);
        assertEquals(12345f, got[count + 1], "wrote past the elements asked for");
    }

    @Test
    void partialBlocksAndUnsupportedTypesAreRefused() {
        MemorySegment seg = MemorySegment.ofArray(new byte[64]);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GgmlBlocks.decode(GgmlType.Q8_0, seg, 0, 16, new float[16], 0))
                .getMessage().contains("whole Q8_0 blocks"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GgmlBlocks.decode(GgmlType.IQ2_XXS, seg, 0, 256, new float[256], 0))
                .getMessage().contains("IQ2_XXS"));
    }
}
