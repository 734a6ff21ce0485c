package dev.offload.model.onnx;

import dev.offload.model.BlockQuantizedLinear;
import dev.offload.ops.blockq.BlockFormat;
import dev.offload.ops.blockq.BlockMatrix;
import java.lang.foreign.MemorySegment;

/**
 * ONNX Runtime's 4-bit linear, the contrib operator {@code com.microsoft MatMulNBits} (Y = A B^T + bias, B quantized
 * along K in blocks), in the one form that is exactly ggml's Q4_0: bits = 4, block_size = 32, no zero_points (the
 * default zero point is 8, Q4_0's), scales that are fp16 values. Both directions of the repack live here:
 * <pre>
 *   MatMulNBits  B uint8 [N, K/32, 16]: byte i of a block holds element 2i (low nibble) and 2i + 1 (high nibble);
 *                scales float [N, K/32]
 *   Q4_0         per block: fp16 d, then 16 bytes: byte i holds element i (low nibble) and i + 16 (high nibble)
 * </pre>
 * The nibbles and the scale are the same numbers in both: value = (nibble - 8) * d. accuracy_level = 4 asks ONNX
 * Runtime for what offload computes (A quantized per block to int8, integer dot products); offload reads any
 * accuracy level and always computes W4A8.
 */
public final class MatMulNBitsWeights {
    public static final int BITS = 4, BLOCK_SIZE = 32, ACCURACY_LEVEL = 4, BLOB_BYTES = BLOCK_SIZE * BITS / 8;

    private MatMulNBitsWeights() {}

    /** B [N, K/32, 16] and scales [N, K/32] of a Q4_0 weight (N rows of K). */
    public record Packed(int n, int k, byte[] b, float[] scales) {}

    public static Packed pack(BlockMatrix q4) {
        if (q4.format() != BlockFormat.Q4_0) throw new IllegalArgumentException("MatMulNBits holds Q4_0 weights, not " + q4.format());
        int n = q4.rows(), k = q4.cols(), nb = k / BLOCK_SIZE;
        byte[] blocks = q4.blocks().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        byte[] b = new byte[n * nb * BLOB_BYTES];
        float[] scales = new float[n * nb];
        int[] v = new int[BLOCK_SIZE];
        for (int blk = 0; blk < n * nb; blk++) {
            int at = blk * BlockFormat.Q4_0.blockBytes();
            scales[blk] = Float.float16ToFloat((short) ((blocks[at] & 0xFF) | (blocks[at + 1] & 0xFF) << 8));
            for (int i = 0; i < 16; i++) {
                v[i] = blocks[at + 2 + i] & 0xF;
                v[i + 16] = (blocks[at + 2 + i] >> 4) & 0xF;
            }
            for (int i = 0; i < BLOB_BYTES; i++) b[blk * BLOB_BYTES + i] = (byte) (v[2 * i] | v[2 * i + 1] << 4);
        }
        return new Packed(n, k, b, scales);
    }

    /** The Q4_0 blocks of a packed weight; every scale must be an fp16 value (the caller checked). */
    static BlockMatrix unpack(Packed p) {
        int nb = p.k() / BLOCK_SIZE;
        byte[] blocks = new byte[p.n() * nb * BlockFormat.Q4_0.blockBytes()];
        int[] v = new int[BLOCK_SIZE];
        for (int blk = 0; blk < p.n() * nb; blk++) {
            for (int i = 0; i < BLOB_BYTES; i++) {
                int byt = p.b()[blk * BLOB_BYTES + i];
                v[2 * i] = byt & 0xF;
                v[2 * i + 1] = (byt >> 4) & 0xF;
            }
            int at = blk * BlockFormat.Q4_0.blockBytes();
            short d = Float.floatToFloat16(p.scales()[blk]);
            blocks[at] = (byte) d;
            blocks[at + 1] = (byte) (d >> 8);
            for (int i = 0; i < 16; i++) blocks[at + 2 + i] = (byte) (v[i] | v[i + 16] << 4);
        }
        // Native memory (the OpenCL upload reads native segments only), shared (the parallel references read it from
        // any thread), freed with the model.
        MemorySegment seg = java.lang.foreign.Arena.ofAuto().allocate(blocks.length, 64);
        MemorySegment.copy(MemorySegment.ofArray(blocks), 0, seg, 0, blocks.length);
        return new BlockMatrix(BlockFormat.Q4_0, p.n(), p.k(), seg);
    }

    /**
     * The linear of a MatMulNBits node, or an {@link dev.offload.model.UnsupportedModelException} naming the file and
     * the node for any form offload does not compute exactly (other bits or block sizes, zero points, g_idx, K not a
     * multiple of 32, scales that are not fp16 values, shapes that disagree with K and N).
     */
    static BlockQuantizedLinear read(OnnxNode node, OnnxTensor b, OnnxTensor scales, float[] bias, GraphMatcher m) {
        long bits = node.attrInt("bits", BITS), block = node.attrInt("block_size", -1), k = node.attrInt("K", -1), n = node.attrInt("N", -1);
        if (bits != BITS) throw m.mismatch(node, "bits " + bits + " is not supported (offload reads 4-bit MatMulNBits)");
        if (block != BLOCK_SIZE) throw m.mismatch(node, "block_size " + block + " is not supported (offload reads blocks of " + BLOCK_SIZE + ", Q4_0's)");
        if (k < 1 || n < 1 || k > Integer.MAX_VALUE || n > Integer.MAX_VALUE) throw m.mismatch(node, "needs positive attributes K and N, got K " + k + ", N " + n);
        if (k % BLOCK_SIZE != 0) throw m.mismatch(node, "K " + k + " is not a multiple of " + BLOCK_SIZE);
        if (!node.input(3).isEmpty()) throw m.mismatch(node, "zero_points given: offload reads the default zero point 8 (Q4_0) only");
        if (!node.input(4).isEmpty()) throw m.mismatch(node, "g_idx given: offload reads blocks in K order only");
        long[] a = m.folder.shape(node.input(0));
        if (a == null || a.length == 0 || a[a.length - 1] != k) throw m.mismatch(node, "A's last axis is not K = " + k);
        int nb = (int) (k / BLOCK_SIZE);
        if (b.type() != OnnxType.UINT8 || b.rank() != 3 || b.dim(0) != n || b.dim(1) != nb || b.dim(2) != BLOB_BYTES) {
            throw m.mismatch(node, "B must be uint8 [N=" + n + ", " + nb + ", " + BLOB_BYTES + "], is " + b.type() + java.util.Arrays.toString(b.shape()));
        }
        if (scales.type() != OnnxType.FLOAT || scales.size() != n * nb) {
            throw m.mismatch(node, "scales must be " + n * nb + " floats (N x K/32), is " + scales.type() + java.util.Arrays.toString(scales.shape()));
        }
        float[] s = scales.floats();
        for (int i = 0; i < s.length; i++) {
            if (Float.floatToRawIntBits(Float.float16ToFloat(Float.floatToFloat16(s[i]))) != Float.floatToRawIntBits(s[i])) {
                throw m.mismatch(node, "scale " + i + " (" + s[i] + ") is not an fp16 value; offload computes Q4_0, whose scales are fp16");
            }
        }
        float[] bz = bias != null ? bias : new float[(int) n];
        if (bz.length != n) throw m.mismatch(node, "bias has " + bz.length + " values for N = " + n);
        return new BlockQuantizedLinear(unpack(new Packed((int) n, (int) k, b.bytes(), s)), bz);
    }
}
