package dev.offload.model;

import dev.offload.ops.blockq.BlockFormat;
import dev.offload.ops.blockq.BlockMatrix;

/**
 * A dense layer whose weight is 4-bit, in ggml's Q4_0 blocks along the inputs ({@link BlockMatrix}: row n holds output
 * n's K weights, 32 a block with one fp16 scale; real value (nibble - 8) * d), with a float bias. Its input is
 * quantized at run time per block of 32 values to int8 (ggml's block_q8_0 rule), so the layer is W4A8: integer block
 * dot products, then float scales (dev.offload.ops.blockq.BlockLinearReference). What {@code offload compress
 * --method int4} makes, and what the importer reads from a {@code com.microsoft MatMulNBits} node.
 */
public record BlockQuantizedLinear(BlockMatrix weight, float[] bias) implements Linear {
    public BlockQuantizedLinear {
        if (weight.format() != BlockFormat.Q4_0) throw new IllegalArgumentException("an encoder's block linear is Q4_0, got " + weight.format());
        if (bias.length != weight.rows()) {
            throw new IllegalArgumentException("BlockQuantizedLinear " + weight.cols() + "x" + weight.rows() + ": bias has " + bias.length + " values");
        }
    }

    @Override public int inputs() { return weight.cols(); }

    @Override public int outputs() { return weight.rows(); }

    /** The Q4_0 blocks as bytes, row by row (18 bytes per 32 weights). */
    public byte[] blockBytes() { return weight.blocks().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE); }
}
