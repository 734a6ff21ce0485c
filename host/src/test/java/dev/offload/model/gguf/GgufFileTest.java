package dev.offload.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The GGUF reader on files the test-only writer makes: every value type, tensors, and every kind of bad file. */
class GgufFileTest {
    @TempDir Path dir;

    static byte[] seeded(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void readsMetadataOfEveryTypeIncludingNestedArrays(int version) throws IOException {
        Path f = new GgufWriter().version(version)
                .u8("u8", 250).i8("i8", -5).u16("u16", 65000).i16("i16", -30000).u32("u32", 4_000_000_000L)
                .i32("i32", -2_000_000_000).u64("u64", -1L).i64("i64", Long.MIN_VALUE).f32("f32", 1.5f).f64("f64", -2.25)
                .bool("yes", true).bool("no", false).str("s", "Grüße 🦙")
                .strings("strs", "a", "", "ü").floats("floats", 0.5f, -1f).ints("ints", 1, -2, 3)
                .raw("nested", b -> b.u32(9).u32(9).u64(2)
                        .u32(4).u64(2).u32(7).u32(8)
                        .u32(8).u64(1).str("x"))
                .raw("bools", b -> b.u32(9).u32(7).u64(3).u8(1).u8(0).u8(1))
                .raw("u8s", b -> b.u32(9).u32(0).u64(2).u8(255).u8(1))
                .write(dir.resolve("all.gguf"));
        try (GgufFile g = GgufFile.open(f)) {
            GgufMetadata md = g.metadata();
            assertEquals(version, g.version());
            assertEquals(List.of("u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "yes", "no", "s",
                    "strs", "floats", "ints", "nested", "bools", "u8s"), List.copyOf(md.keys()));
            assertEquals(250, md.integer("u8"));
            assertEquals(-5, md.integer("i8"));
            assertEquals(65000, md.integer("u16"));
            assertEquals(-30000, md.integer("i16"));
            assertEquals(4_000_000_000L, md.integer("u32"));
            assertEquals(-2_000_000_000, md.integer("i32"));
            assertEquals(new GgufValue.Int(GgufValueType.UINT64, -1L), md.get("u64").orElseThrow());
            assertThrows(GgufFormatException.class, () -> md.integer("u64"), "2^64-1 does not fit a signed long");
            assertEquals(Long.MIN_VALUE, md.integer("i64"));
            assertEquals(1.5, md.real("f32"));
            assertEquals(-2.25, md.real("f64"));
            assertTrue(md.bool("yes"));
            assertFalse(md.bool("no"));
            assertEquals("Grüße 🦙", md.string("s"));
            assertArrayEquals(new String[] {"a", "", "ü"}, md.stringArray("strs"));
            assertArrayEquals(new float[] {0.5f, -1f}, md.floatArray("floats"));
            assertArrayEquals(new int[] {1, -2, 3}, md.intArray("ints"));
            GgufValue.Array nested = (GgufValue.Array) md.get("nested").orElseThrow();
            assertEquals(GgufValueType.ARRAY, nested.elementType());
            GgufValue.Array[] inner = (GgufValue.Array[]) nested.elements();
            assertArrayEquals(new long[] {7, 8}, (long[]) inner[0].elements());
            assertArrayEquals(new String[] {"x"}, (String[]) inner[1].elements());
            assertArrayEquals(new boolean[] {true, false, true}, (boolean[]) ((GgufValue.Array) md.get("bools").orElseThrow()).elements());
            assertArrayEquals(new int[] {255, 1}, md.intArray("u8s"));
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> md.string("u8"));
            assertEquals(f + ": metadata key 'u8' is UINT8, expected STRING", e.getMessage());
            e = assertThrows(GgufFormatException.class, () -> md.string("absent"));
            assertEquals(f + ": required metadata key 'absent' is missing", e.getMessage());
            assertTrue(g.tensorInfos().isEmpty());
        }
    }

    @Test
    void mapsTensorsOfSeveralTypesAsSlicesAtAlignedOffsets() throws IOException {
        byte[] f32 = seeded(4 * 12, 1), f16 = seeded(2 * 8, 2), q80 = seeded(34 * 4, 3), q4k = seeded(144, 4),
                q6k = seeded(210 * 2, 5), bf16 = seeded(2 * 3, 6);
        Path f = new GgufWriter().alignment(64).u32("general.alignment", 64).str("general.architecture", "llama")
                .tensor("a.f32", 0, new long[] {4, 3}, f32)
                .tensor("b.f16", 1, new long[] {8}, f16)
                .tensor("c.q8_0", 8, new long[] {64, 2}, q80)
                .tensor("d.q4_k", 12, new long[] {256, 1, 1, 1}, q4k)
                .tensor("e.q6_k", 14, new long[] {512}, q6k)
                .tensor("f.bf16", 30, new long[] {3}, bf16)
                .write(dir.resolve("tensors.gguf"));
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataStart() % 64);
            assertEquals(List.of("a.f32", "b.f16", "c.q8_0", "d.q4_k", "e.q6_k", "f.bf16"),
                    g.tensorInfos().stream().map(GgufTensorInfo::name).toList());
            Object[][] expect = {{"a.f32", GgmlType.F32, f32, new long[] {4, 3}}, {"b.f16", GgmlType.F16, f16, new long[] {8}},
                    {"c.q8_0", GgmlType.Q8_0, q80, new long[] {64, 2}}, {"d.q4_k", GgmlType.Q4_K, q4k, new long[] {256, 1, 1, 1}},
                    {"e.q6_k", GgmlType.Q6_K, q6k, new long[] {512}}, {"f.bf16", GgmlType.BF16, bf16, new long[] {3}}};
            for (Object[] e : expect) {
                GgufTensor t = g.tensor((String) e[0]);
                assertEquals(e[1], t.type());
                assertArrayEquals((long[]) e[3], t.shape());
                assertArrayEquals((byte[]) e[2], t.data().toArray(ValueLayout.JAVA_BYTE), (String) e[0]);
                assertEquals(0, t.info().offset() % 64);
            }
            float first = g.tensor("a.f32").data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            assertEquals(java.nio.ByteBuffer.wrap(f32).order(ByteOrder.LITTLE_ENDIAN).getFloat(0), first);
            assertEquals(f32.length + f16.length + q80.length + q4k.length + q6k.length + bf16.length, g.tensorBytes());
            var seg = g.tensor("a.f32").data();
            g.close();
            assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_BYTE, 0), "closing unmaps");
        }
    }

    @Test
    void knowsTheBlockLayoutOfEveryTypeTheIssueNames() {
        Object[][] sizes = {{GgmlType.F32, 1, 4}, {GgmlType.F16, 1, 2}, {GgmlType.BF16, 1, 2}, {GgmlType.Q4_0, 32, 18},
                {GgmlType.Q4_1, 32, 20}, {GgmlType.Q5_0, 32, 22}, {GgmlType.Q5_1, 32, 24}, {GgmlType.Q8_0, 32, 34},
                {GgmlType.Q2_K, 256, 84}, {GgmlType.Q3_K, 256, 110}, {GgmlType.Q4_K, 256, 144}, {GgmlType.Q5_K, 256, 176},
                {GgmlType.Q6_K, 256, 210}, {GgmlType.Q8_K, 256, 292}};
        for (Object[] s : sizes) {
            GgmlType t = (GgmlType) s[0];
            assertEquals(s[1], t.blockSize(), t.name());
            assertEquals(s[2], t.blockBytes(), t.name());
        }
    }

    /** Opens a file that must be refused; returns the one-line message after checking it names the file. */
    String refused(byte[] bytes, String name) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(f).close());
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertEquals(f, e.file());
        return e.getMessage();
    }

    void assertRefused(String expected, GgufWriter w, String name) throws IOException {
        String m = refused(w.bytes(), name);
        assertTrue(m.contains(expected), m);
    }

    GgufWriter oneTensor(UnaryOperator<GgufWriter> more) {
        return more.apply(new GgufWriter().str("general.architecture", "llama"));
    }

    @Test
    void refusesTruncatedHeadersAndForeignFiles() throws IOException {
        byte[] good = new GgufWriter().str("general.name", "a model with a long name").u32("n", 7).bytes();
        assertTrue(refused(Arrays.copyOf(good, 10), "short.gguf").contains("truncated: the file ends at byte 10 while reading the tensor count"));
        assertTrue(refused(Arrays.copyOf(good, good.length - 6), "cut.gguf").contains("truncated"));
        assertTrue(refused(new byte[0], "empty.gguf").contains("truncated"));
        assertTrue(refused("GGML....................".getBytes(), "magic.gguf").contains("not a GGUF file"));
        assertRefused("GGUF version 1 is not supported", new GgufWriter().version(1), "v1.gguf");
        assertRefused("GGUF version 4 is not supported", new GgufWriter().version(4), "v4.gguf");
        assertRefused("the file may be big-endian", new GgufWriter().version(0x03000000), "be.gguf");
    }

    @Test
    void refusesAbsurdLengthsAndCountsWithoutAllocating() throws IOException {
        assertRefused("string of 4611686018427387904 bytes does not fit", new GgufWriter()
                .raw("k", b -> b.u32(8).u64(1L << 62)), "longstring.gguf");
        assertRefused("string of 18446744073709551615 bytes does not fit", new GgufWriter()
                .raw("k", b -> b.u32(8).u64(-1L)), "negstring.gguf");
        assertRefused("array of 4611686018427387904 FLOAT32 values does not fit", new GgufWriter()
                .raw("k", b -> b.u32(9).u32(6).u64(1L << 62)), "longarray.gguf");
        assertRefused("array of 1000000 STRING values does not fit", new GgufWriter()
                .raw("k", b -> b.u32(9).u32(8).u64(1_000_000)), "manystrings.gguf");
        assertRefused("metadata count 4611686018427387904 cannot fit", new GgufWriter().kvCount(1L << 62), "kvcount.gguf");
        assertRefused("tensor count 1152921504606846976 cannot fit", new GgufWriter().tensorCount(1L << 60), "tcount.gguf");
        assertRefused("unknown value type 13", new GgufWriter().raw("k", b -> b.u32(13).u32(0)), "vtype.gguf");
        assertRefused("boolean byte 2", new GgufWriter().raw("k", b -> b.u32(7).u8(2)), "bool.gguf");
        GgufWriter deep = new GgufWriter().raw("k", b -> { b.u32(9); for (int i = 0; i < 12; i++) b.u32(9).u64(1); b.u32(0).u64(0); });
        assertRefused("arrays nested deeper than 8", deep, "deep.gguf");
    }

    @Test
    void refusesBadTensorInfos() throws IOException {
        assertRefused("tensor 'w' has 5 dimensions (at most 4)",
                oneTensor(w -> w.tensor("w", 0, new long[] {1, 1, 1, 1, 1}, new byte[4])), "dims.gguf");
        assertRefused("tensor 'w' has unknown ggml type id 4",
                oneTensor(w -> w.tensor("w", 4, new long[] {32}, new byte[18])), "type4.gguf");
        assertRefused("tensor 'w' has unknown ggml type id 99",
                oneTensor(w -> w.tensor("w", 99, new long[] {32}, new byte[18])), "type99.gguf");
        assertRefused("the element count of tensor 'w' overflows 64 bits",
                oneTensor(w -> w.tensor("w", 0, new long[] {1L << 40, 1L << 40}, new byte[4])), "overflow.gguf");
        assertRefused("the byte size of tensor 'w' overflows 64 bits",
                oneTensor(w -> w.tensor("w", 0, new long[] {1L << 62}, new byte[4])), "bytesoverflow.gguf");
        assertRefused("tensor 'w' of type Q8_0 has rows of 31 elements, not a multiple of the block size 32",
                oneTensor(w -> w.tensor("w", 8, new long[] {31}, new byte[34])), "block.gguf");
        assertRefused("duplicate tensor name 'w'",
                oneTensor(w -> w.tensor("w", 0, new long[] {1}, new byte[4]).tensor("w", 0, new long[] {1}, new byte[4])), "dupt.gguf");
        assertRefused("duplicate metadata key 'k'", new GgufWriter().u32("k", 1).str("k", "again"), "dupk.gguf");
    }

    @Test
    void refusesTensorDataOutsideTheFileOverlappingOrMisaligned() throws IOException {
        byte[] full = oneTensor(w -> w.tensor("w", 0, new long[] {64}, new byte[256])).bytes();
        assertTrue(refused(Arrays.copyOf(full, full.length - 1), "past.gguf")
                .contains("tensor 'w' (256 bytes at data offset 0) extends past the end of the file"));
        assertRefused("extends past the end of the file", oneTensor(w -> w.tensor(
                new GgufWriter.Tensor("w", new long[] {8}, 0, Long.MAX_VALUE - 31, new byte[0]))), "hugeoffset.gguf");
        assertRefused("tensor 'b' at data offset 32 overlaps tensor 'a' (64 bytes at 0)", oneTensor(w -> w
                .tensor(new GgufWriter.Tensor("a", new long[] {16}, 0, 0L, new byte[64]))
                .tensor(new GgufWriter.Tensor("b", new long[] {16}, 0, 32L, new byte[64]))), "overlap.gguf");
        assertRefused("tensor 'w' offset 8 is not a multiple of the alignment 32",
                oneTensor(w -> w.tensor(new GgufWriter.Tensor("w", new long[] {2}, 0, 8L, new byte[8]))), "misaligned.gguf");
        assertRefused("general.alignment 48 is not a power of two",
                new GgufWriter().u32("general.alignment", 48), "align48.gguf");
        assertRefused("general.alignment is STRING, expected UINT32",
                new GgufWriter().str("general.alignment", "32"), "alignstr.gguf");
    }

    @Test
    void opensOnlyRegularFilesThatExist() throws IOException {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(dir));
        assertEquals(dir + ": is a directory, not a file", e.getMessage());
        Path missing = dir.resolve("missing.gguf");
        e = assertThrows(GgufFormatException.class, () -> GgufFile.open(missing));
        assertEquals(missing + ": no such file", e.getMessage());
    }
}
