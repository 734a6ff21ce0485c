package dev.offload.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's own contract: tensors streamed from producers at aligned offsets, metadata copied value for value. */
class GgufWriterTest {
    @TempDir Path dir;

    @Test
    void streamsEachTensorFromItsProducerInRowChunks() throws IOException {
        int rows = 300, cols = 64;
        float[] all = GgmlQuantizerTest.gaussian(rows * cols, 5, 0.02);
        Path f = new GgufWriter().str("general.architecture", "llama")
                .tensor("norm", GgmlType.F32, new long[] {3}, out -> out.write(GgmlQuantizer.encode(GgmlType.F32, new float[] {1, 2, 3})))
                .tensor("w", GgmlType.Q8_0, new long[] {cols, rows}, out -> {
                    // One row at a time: what a writer of a gigabyte model does.
                    ByteBuffer row = ByteBuffer.allocate(cols / 32 * 34);
                    for (int r = 0; r < rows; r++) {
                        row.clear();
                        GgmlQuantizer.encode(GgmlType.Q8_0, all, r * cols, cols, row);
                        out.write(row.array());
                    }
                })
                .write(dir.resolve("streamed.gguf"));
        try (GgufFile g = GgufFile.open(f)) {
            assertArrayEquals(new float[] {1, 2, 3}, GgmlBlocks.decode(g.tensor("norm")));
            GgufTensor w = g.tensor("w");
            assertEquals(0, w.info().offset() % GgufFile.DEFAULT_ALIGNMENT);
            assertArrayEquals(GgmlQuantizer.encode(GgmlType.Q8_0, all), w.data().toArray(ValueLayout.JAVA_BYTE));
            assertEquals(12 + (long) rows * cols / 32 * 34, g.tensorBytes());
        }
    }

    @Test
    void aProducerThatWritesTheWrongSizeIsAnError() {
        GgufWriter w = new GgufWriter().tensor("w", GgmlType.F32, new long[] {4}, out -> out.write(new byte[12]));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.write(dir.resolve("short.gguf")));
        assertEquals("tensor 'w': its producer wrote 12 bytes, the tensor has 16", e.getMessage());
    }

    @Test
    void copiesMetadataOfEveryTypeValueForValue() throws IOException {
        Path a = new GgufWriter().u8("u8", 250).i8("i8", -5).u16("u16", 65000).i16("i16", -30000).u32("u32", 4_000_000_000L)
                .i32("i32", -7).u64("u64", -1L).i64("i64", Long.MIN_VALUE).f32("f32", 1.5f).f64("f64", -2.25).bool("b", true)
                .str("s", "Grüße 🦙").strings("strs", "a", "", "ü").floats("floats", 0.5f, -1f).ints("ints", 1, -2, 3)
                .raw("nested", b -> b.u32(9).u32(9).u64(2).u32(4).u64(2).u32(7).u32(8).u32(8).u64(1).str("x"))
                .raw("bools", b -> b.u32(9).u32(7).u64(2).u8(1).u8(0))
                .raw("u8s", b -> b.u32(9).u32(0).u64(2).u8(255).u8(1))
                .raw("f64s", b -> b.u32(9).u32(12).u64(1).f64(0.125))
                .write(dir.resolve("a.gguf"));
        Map<String, GgufValue> original;
        try (GgufFile g = GgufFile.open(a)) {
            original = g.metadata().asMap();
        }
        GgufWriter copy = new GgufWriter();
        original.forEach(copy::value);
        Path b = copy.write(dir.resolve("b.gguf"));
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "the copy is the same file");
        try (GgufFile g = GgufFile.open(b)) {
            assertEquals(original.keySet(), g.metadata().asMap().keySet());
            assertTrue(g.metadata().string("s").equals("Grüße 🦙"));
        }
    }
}
