package dev.offload.ops.blockq;

import dev.offload.model.gguf.GgmlType;

/**
 * The weight formats a block-quantized linear computes natively, from ggml's own layouts (a GGUF tensor of one of
 * these types keeps its bytes, never converted to another format: on a device they are only rearranged into panels
 * of 16 rows of the same byte count, blockq.cl):
 * <ul>
 *   <li>Q8_0: 32 values a block, fp16 d + 32 int8 (34 bytes); value q * d.</li>
 *   <li>Q4_0: 32 values a block, fp16 d + 16 bytes of nibbles (18 bytes); value (nibble - 8) * d, the low nibbles
 *       elements 0..15 and the high nibbles 16..31.</li>
 *   <li>Q4_K: 256-value super-blocks of 8 sub-blocks of 32 (144 bytes): fp16 d, fp16 dmin, 12 bytes packing each
 *       sub-block's 6-bit scale sc and 6-bit min m, 128 bytes of nibbles (sub-blocks 2c and 2c + 1 share bytes
 *       32c .. 32c + 31, low and high nibbles); value d * sc * nibble - dmin * m.</li>
 *   <li>Q6_K: 256-value super-blocks of 16 sub-blocks of 16 (210 bytes): 128 bytes of low nibbles, 64 bytes of
 *       2-bit highs, 16 int8 scales sc, fp16 d last; value d * sc * (6-bit q - 32).</li>
 * </ul>
 * Whatever the format, activations come in blocks of {@value #BLOCK} int8 values with one float scale, so every
 * format is computed per 32 weights: a K-quant's 32 values carry one or two integer scales (and Q4_K a min).
 */
public enum BlockFormat {
    Q8_0(GgmlType.Q8_0),
    Q4_0(GgmlType.Q4_0),
    Q4_K(GgmlType.Q4_K),
    Q6_K(GgmlType.Q6_K);

    /** Values per activation block, and per unit of the dot products: every format's blocks split into these. */
    public static final int BLOCK = 32;

    private final GgmlType ggml;

    BlockFormat(GgmlType ggml) { this.ggml = ggml; }

    /** The ggml type with this layout (GGUF files name it). */
    public GgmlType ggmlType() { return ggml; }

    /** Values per stored block: 32, or 256 for the K-quants' super-blocks. */
    public int valuesPerBlock() { return ggml.blockSize(); }

    /** Bytes per stored block. */
    public int blockBytes() { return ggml.blockBytes(); }

    /** Whether the blocks are 256-value super-blocks (Q4_K, Q6_K). */
    public boolean superBlocks() { return valuesPerBlock() > BLOCK; }

    /** The format stored as this ggml type, if offload computes it natively. */
    public static java.util.Optional<BlockFormat> of(GgmlType type) {
        for (BlockFormat f : values()) if (f.ggml == type) return java.util.Optional.of(f);
        return java.util.Optional.empty();
    }
}
