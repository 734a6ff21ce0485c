package dev.offload.ops.blockq;

import dev.offload.model.gguf.GgmlBlocks;
import dev.offload.model.gguf.GgmlQuantizer;
import dev.offload.model.gguf.GgmlType;
import dev.offload.model.gguf.GgufTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * A linear layer's weight in ggml blocks: {@code rows} output features (N) of {@code cols} input features (K, a
 * multiple of the format's block: 32, or 256 for Q4_K and Q6_K); row r's blocks lie at {@code r * rowBytes()}. This
 * is exactly a ggml 2-D tensor [ne0 = K, ne1 = N], so a Q8_0, Q4_0, Q4_K or Q6_K tensor of a GGUF file is used as it
 * is: {@code blocks} is then a slice of the mapped file, valid while the file is open, never copied onto the heap
 * (a Q4_K_M file, Q4_K and Q6_K, is resident at its tensor bytes).
 *
 * <p>Every other type {@link GgmlBlocks} decodes is repacked to Q8_0 at load ({@link #fromGguf}): one row at a time
 * is decoded to float and quantized with ggml's Q8_0 quantizer into the caller's arena. What that costs, measured
 * by BlockMatrixTest on seeded 96 x 512 tensors of each type (NMSE = sum (q - x)^2 / sum x^2 of the repacked
 * weights against the file's own float values; the test asserts each bound):
 * <pre>
 *   type              measured NMSE   asserted bound   data
 *   F32, F16, BF16    2.9e-5          4e-5             Gaussian values: a block's max is ~2-2.5 sigma, so Q8_0's
 *                                                      step amax/127 is ~sigma/55 (2.3e-5 predicted)
 *   Q4_1, Q5_0, Q5_1  1.4e-5 - 1.5e-5 2e-5             random blocks: values spread evenly over the block's range,
 *   Q5_K              1.4e-5          2e-5             1 / (4 * 127^2) = 1.55e-5 predicted
 * </pre>
 * An NMSE of 1.5e-5 is 48 dB. For scale: a 4- or 5-bit format's own step is 16 or 8 times Q8_0's (16 or 32 levels
 * against 255), so its own error against the original floats is about 250 or 64 times the repack's (squared steps).
 * Q8_0, Q4_0, Q4_K and Q6_K are not repacked: their accuracy is the file's.
 *
 * @param blocks exactly {@code rows * (cols / format.valuesPerBlock()) * format.blockBytes()} bytes, little-endian as
 *               ggml stores them
 */
public record BlockMatrix(BlockFormat format, int rows, int cols, MemorySegment blocks) {
    /** Rows repacked per batch: each batch is decoded in parallel into a heap buffer of this many rows, then copied. */
    private static final int REPACK_ROWS = 64;
    /** A thread that is not the caller (never started): asks whether a segment may be read from other threads. */
    private static final Thread ELSEWHERE = new Thread(() -> {});

    public BlockMatrix {
        if (rows < 1 || cols < format.valuesPerBlock() || cols % format.valuesPerBlock() != 0) {
            throw new IllegalArgumentException("a " + format + " block matrix needs rows >= 1 and cols a positive multiple of "
                    + format.valuesPerBlock() + ", got " + rows + "x" + cols);
        }
        long want = (long) rows * (cols / format.valuesPerBlock()) * format.blockBytes();
        if (blocks.byteSize() != want) {
            throw new IllegalArgumentException(format + " " + rows + "x" + cols + " needs " + want + " bytes of blocks, got " + blocks.byteSize());
        }
    }

    /** 32-value blocks in one row (K / 32): the activation blocks each row of x has, and the dot products' unit. */
    public int blocksPerRow() { return cols / BlockFormat.BLOCK; }

    /** Stored blocks in one row: K / 32, or K / 256 for the K-quants' super-blocks. */
    public int storedBlocksPerRow() { return cols / format.valuesPerBlock(); }

    /** Bytes of one row of blocks. */
    public long rowBytes() { return (long) storedBlocksPerRow() * format.blockBytes(); }

    /** Bytes of all blocks (what a device holds of this weight). */
    public long byteSize() { return blocks.byteSize(); }

    /** Whether other threads may read the blocks (not so for a confined arena's): loops over rows may then run in parallel. */
    public boolean readableEverywhere() { return readableEverywhere(blocks); }

    static boolean readableEverywhere(MemorySegment s) { return s.isAccessibleBy(ELSEWHERE); }

    /** Byte offset of stored block b (of {@link #storedBlocksPerRow}) of row r in {@link #blocks}. */
    public long blockOffset(int r, int b) { return r * rowBytes() + (long) b * format.blockBytes(); }

    /**
     * A GGUF tensor [ne0 = K, ne1 = N] as a block matrix: Q8_0, Q4_0, Q4_K and Q6_K as stored (a slice of the mapped
     * file); F32, F16, BF16, Q4_1, Q5_0, Q5_1 and Q5_K repacked to Q8_0 into {@code arena} (see the class comment for
     * what that costs). Other types, and tensors that are not matrices, are refused with their name.
     */
    public static BlockMatrix fromGguf(GgufTensor t, Arena arena) {
        long[] shape = t.shape();
        for (int d = 2; d < shape.length; d++) {
            if (shape[d] != 1) throw new IllegalArgumentException("tensor '" + t.name() + "' " + Arrays.toString(shape) + " is not a matrix");
        }
        if (shape.length < 2 || shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' " + Arrays.toString(shape) + " is not a matrix offload can hold");
        }
        int k = (int) shape[0], n = (int) shape[1];
        if (k % BlockFormat.BLOCK != 0) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has " + k + " input features, not a multiple of " + BlockFormat.BLOCK);
        }
        var stored = BlockFormat.of(t.type());
        if (stored.isPresent()) return new BlockMatrix(stored.get(), n, k, t.data());
        if (!GgmlBlocks.supported(t.type())) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' is " + t.type() + ", which offload cannot read (it reads F32, F16, "
                    + "BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
        }
        return repacked(t.type(), t.data(), n, k, arena);
    }

    /** Rows of another ggml type (k % its block size == 0 is the caller's check) decoded and quantized to Q8_0. */
    static BlockMatrix repacked(GgmlType type, MemorySegment src, int n, int k, Arena arena) {
        long srcRowBytes = (long) k / type.blockSize() * type.blockBytes();
        BlockMatrix out = new BlockMatrix(BlockFormat.Q8_0, n, k,
                arena.allocate((long) n * (k / BlockFormat.BLOCK) * BlockFormat.Q8_0.blockBytes(), 64));
        int rowBytes = (int) out.rowBytes();
        byte[] batch = new byte[REPACK_ROWS * rowBytes];
        for (int r0 = 0; r0 < n; r0 += REPACK_ROWS) {
            int first = r0, count = Math.min(REPACK_ROWS, n - r0);
            // Each row decoded alone into its own float buffer: the result does not depend on the parallelism, and
            // the arena (maybe confined to this thread) is written only here, after the batch.
            IntStream rows = IntStream.range(0, count);
            (readableEverywhere(src) ? rows.parallel() : rows).forEach(i -> {
                float[] row = new float[k];
                GgmlBlocks.decode(type, src, (first + i) * srcRowBytes, k, row, 0);
                GgmlQuantizer.encode(GgmlType.Q8_0, row, 0, k, java.nio.ByteBuffer.wrap(batch, i * rowBytes, rowBytes));
            });
            MemorySegment.copy(MemorySegment.ofArray(batch), 0, out.blocks, (long) first * rowBytes, (long) count * rowBytes);
        }
        return out;
    }

    /**
     * Weights [rows][cols] (row-major: row r holds output feature r's cols input weights) quantized with ggml's
     * reference quantizer of {@code format} into {@code arena}.
     */
    public static BlockMatrix quantize(BlockFormat format, float[] w, int rows, int cols, Arena arena) {
        if ((long) rows * cols != w.length) {
            throw new IllegalArgumentException(rows + "x" + cols + " weights need " + (long) rows * cols + " values, got " + w.length);
        }
        if (rows < 1 || cols < format.valuesPerBlock() || cols % format.valuesPerBlock() != 0) {
            throw new IllegalArgumentException(format + " weights need rows >= 1 and cols a positive multiple of " + format.valuesPerBlock()
                    + ", got " + rows + "x" + cols);
        }
        int rowBytes = cols / format.valuesPerBlock() * format.blockBytes();
        byte[] bytes = new byte[Math.multiplyExact(rows, rowBytes)];
        IntStream.range(0, rows).parallel().forEach(r -> GgmlQuantizer.encode(format.ggmlType(), w, r * cols, cols,
                java.nio.ByteBuffer.wrap(bytes, r * rowBytes, rowBytes)));
        MemorySegment seg = arena.allocate(bytes.length, 64);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, seg, 0, bytes.length);
        return new BlockMatrix(format, rows, cols, seg);
    }

    /** All values as floats, [rows][cols] row-major (ggml's dequantization, bit for bit). */
    public float[] dequantize() {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        GgmlBlocks.decode(format.ggmlType(), blocks, 0, out.length, out, 0);
        return out;
    }

    @Override public String toString() { return "BlockMatrix[" + format + " " + rows + "x" + cols + ", " + byteSize() + " bytes]"; }
}
