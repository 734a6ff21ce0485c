package dev.offload.ops.blockq;

import dev.offload.model.gguf.GgmlType;

/**
 * The weight formats a block-quantized linear computes natively: ggml's layouts, 32 values a block, the fp16 scale
 * d first. Q8_0 = d + 32 int8 (34 bytes), value q * d. Q4_0 = d + 16 bytes of nibbles (18 bytes), value
 * (nibble - 8) * d, the low nibbles elements 0..15 and the high nibbles 16..31.
 */
public enum BlockFormat {
    Q8_0(GgmlType.Q8_0, 32),
    Q4_0(GgmlType.Q4_0, 16);

    /** Values per block. */
    public static final int BLOCK = 32;

    private final GgmlType ggml;
    private final int quantBytes;

    BlockFormat(GgmlType ggml, int quantBytes) {
        this.ggml = ggml;
        this.quantBytes = quantBytes;
    }

    /** The ggml type with this layout (GGUF files name it). */
    public GgmlType ggmlType() { return ggml; }

    /** Bytes per block: the 2-byte scale and the quantized values. */
    public int blockBytes() { return 2 + quantBytes; }

    /** Bytes of a block's quantized values (without the scale). */
    public int quantBytes() { return quantBytes; }

    /** The format stored as this ggml type, if offload computes it natively. */
    public static java.util.Optional<BlockFormat> of(GgmlType type) {
        for (BlockFormat f : values()) if (f.ggml == type) return java.util.Optional.of(f);
        return java.util.Optional.empty();
    }
}
