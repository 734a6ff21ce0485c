package dev.offload.ops.blockq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.gguf.GgmlBlocks;
import dev.offload.model.gguf.GgmlType;
import dev.offload.model.gguf.GgufFile;
import dev.offload.model.gguf.GgufTensor;
import dev.offload.model.gguf.GgufWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * GGUF tensors as block matrices: Q8_0 and Q4_0 used in place (a slice of the mapped file), every other readable type
 * repacked to Q8_0 with the accuracy cost BlockMatrix's class comment states (measured here on seeded tensors and
 * asserted against those bounds), and the files offload cannot use refused with the tensor's name.
 */
class BlockMatrixTest {
    /** The NMSE bound each repacked type must meet (BlockMatrix's table). */
    static final Map<GgmlType, Double> REPACK_NMSE_BOUND = Map.of(
            GgmlType.F32, 4e-5, GgmlType.F16, 4e-5, GgmlType.BF16, 4e-5, GgmlType.Q4_1, 2e-5, GgmlType.Q5_0, 2e-5,
            GgmlType.Q5_1, 2e-5, GgmlType.Q5_K, 2e-5);

    static final int N = 96, K = 512;   // K a multiple of the K formats' 256

    @TempDir Path dir;

    /** Seeded tensor bytes of a type: Gaussian floats for the plain types, random blocks with finite scales for the others. */
    static byte[] seededTensor(GgmlType type, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int count = N * K;
        ByteBuffer b = ByteBuffer.allocate(count / type.blockSize() * type.blockBytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> { for (int i = 0; i < count; i++) b.putFloat((float) rnd.nextGaussian()); }
            case F16 -> { for (int i = 0; i < count; i++) b.putShort(Float.floatToFloat16((float) rnd.nextGaussian())); }
            case BF16 -> { for (int i = 0; i < count; i++) b.putShort((short) (Float.floatToRawIntBits((float) rnd.nextGaussian()) >>> 16)); }
            default -> {
                rnd.nextBytes(b.array());
                // Finite fp16 scales where the format keeps them (random bits would make NaN and infinity).
                int[] halves = switch (type) {
                    case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
                    case Q6_K -> new int[] {208};
                    default -> new int[] {0};
                };
                for (int blk = 0; blk < count / type.blockSize(); blk++) {
                    for (int off : halves) b.putShort(blk * type.blockBytes() + off, Float.floatToFloat16((float) rnd.nextDouble(-2, 2)));
                }
            }
        }
        return b.array();
    }

    private GgufFile file(GgmlType type, long[] dims, byte[] data) throws Exception {
        return GgufFile.open(new GgufWriter().tensor("w", type.id(), dims, data).write(dir.resolve(type + ".gguf")));
    }

    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void nativeFormatsAreUsedInPlace(BlockFormat format) throws Exception {
        byte[] data = seededTensor(format.ggmlType(), 1);
        try (GgufFile f = file(format.ggmlType(), new long[] {K, N}, data); Arena arena = Arena.ofConfined()) {
            GgufTensor t = f.tensor("w");
            BlockMatrix m = BlockMatrix.fromGguf(t, arena);
            assertEquals(format, m.format());
            assertEquals(N, m.rows());
            assertEquals(K, m.cols());
            assertEquals(t.data().address(), m.blocks().address(), "no copy: the blocks are the mapped file's");
            assertEquals(t.info().byteSize(), m.byteSize());
            float[] want = GgmlBlocks.decode(t), got = m.dequantize();
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], "value " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q4_1", "Q5_0", "Q5_1", "Q5_K"})
    void otherTypesAreRepackedToQ8_0WithinTheStatedAccuracy(GgmlType type) throws Exception {
        try (GgufFile f = file(type, new long[] {K, N}, seededTensor(type, 2 + type.ordinal())); Arena arena = Arena.ofConfined()) {
            GgufTensor t = f.tensor("w");
            BlockMatrix m = BlockMatrix.fromGguf(t, arena);
            assertEquals(BlockFormat.Q8_0, m.format());
            assertEquals(N, m.rows());
            assertEquals(K, m.cols());
            float[] file = GgmlBlocks.decode(t), repacked = m.dequantize();
            double err = 0, ref = 0;
            for (int i = 0; i < file.length; i++) {
                err += Math.pow((double) repacked[i] - file[i], 2);
                ref += (double) file[i] * file[i];
            }
            double nmse = err / ref;
            System.out.printf(Locale.ROOT, "repack %s -> Q8_0: NMSE %.2e (bound %.0e)%n", type, nmse, REPACK_NMSE_BOUND.get(type));
            assertTrue(nmse > 0 && nmse <= REPACK_NMSE_BOUND.get(type), type + " NMSE " + nmse);
            // Row by row as ggml's quantizer makes it from the file's floats.
            try (Arena a = Arena.ofConfined()) {
                BlockMatrix direct = BlockMatrix.quantize(BlockFormat.Q8_0, file, N, K, a);
                assertEquals(MemorySegment.mismatch(direct.blocks(), 0, direct.byteSize(), m.blocks(), 0, m.byteSize()), -1L);
            }
        }
    }

    @Test
    void tensorsOffloadCannotUseAreRefusedWithTheirName() throws Exception {
        try (GgufFile f = file(GgmlType.Q2_K, new long[] {256, 2}, new byte[2 * GgmlType.Q2_K.blockBytes()]); Arena arena = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class, () -> BlockMatrix.fromGguf(f.tensor("w"), arena));
            assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("Q2_K"), e.getMessage());
        }
        try (GgufFile f = file(GgmlType.F32, new long[] {40, 2}, new byte[2 * 40 * 4]); Arena arena = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class, () -> BlockMatrix.fromGguf(f.tensor("w"), arena));
            assertTrue(e.getMessage().contains("40 input features"), e.getMessage());
        }
        try (GgufFile f = file(GgmlType.F32, new long[] {32, 2, 3}, new byte[32 * 6 * 4]); Arena arena = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class, () -> BlockMatrix.fromGguf(f.tensor("w"), arena));
            assertTrue(e.getMessage().contains("not a matrix"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new BlockMatrix(BlockFormat.Q8_0, 2, 64, MemorySegment.ofArray(new byte[135])));
        assertThrows(IllegalArgumentException.class, () -> BlockMatrix.quantize(BlockFormat.Q4_0, new float[48], 1, 48, Arena.global()));
    }

    @Test
    void blockOffsetsAndScalesReadGgmlsLayout() {
        // Q4_K: super-blocks of 144 bytes, 256 values; the dot products still count 32-value blocks.
        BlockMatrix k = new BlockMatrix(BlockFormat.Q4_K, 3, 512, MemorySegment.ofArray(new byte[3 * 2 * 144]));
        assertEquals(288, k.rowBytes());
        assertEquals(2, k.storedBlocksPerRow());
        assertEquals(16, k.blocksPerRow());
        assertEquals(288 + 144, k.blockOffset(1, 1));
        assertThrows(IllegalArgumentException.class, () -> new BlockMatrix(BlockFormat.Q6_K, 1, 96, MemorySegment.ofArray(new byte[210])),
                "K-quant rows are whole super-blocks of 256");
        byte[] raw = new byte[2 * 2 * 18];
        MemorySegment s = MemorySegment.ofArray(raw);
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 3 * 18, Float.floatToFloat16(-0.5f));
        BlockMatrix m = new BlockMatrix(BlockFormat.Q4_0, 2, 64, s);
        assertEquals(36, m.rowBytes());
        assertEquals(54, m.blockOffset(1, 1));
        WeightRow row = new WeightRow(BlockFormat.Q4_0, 64).read(m, 1);
        assertEquals(-0.5f, row.d[1]);
        assertEquals(0f, row.d[0]);
    }
}
