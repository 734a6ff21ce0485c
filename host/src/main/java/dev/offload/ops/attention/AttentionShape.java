package dev.offload.ops.attention;

/**
 * The dimensions of one attention call: Q is [batch, heads, queryLength, headDim], K and V are
 * [batch, kvHeads, kvLength, headDim], O is shaped like Q. Query head h reads kv head
 * h / (heads / kvHeads) (grouped-query attention; kvHeads == heads is plain multi-head attention).
 */
public record AttentionShape(int batch, int heads, int kvHeads, int queryLength, int kvLength, int headDim) {

    /** The widest head the kernels keep in registers (their accumulator is headDim floats per work-item). */
    public static final int MAX_HEAD_DIM = 256;

    public AttentionShape {
        if (batch < 1 || heads < 1 || kvHeads < 1 || queryLength < 1 || kvLength < 1 || headDim < 1) {
            throw new IllegalArgumentException("attention dimensions must be positive, got " + describe(batch, heads,
                    kvHeads, queryLength, kvLength, headDim));
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("query heads " + heads + " are not a multiple of kv heads " + kvHeads
                    + " (grouped-query attention needs H % Hkv == 0)");
        }
        if (headDim % 4 != 0 || headDim > MAX_HEAD_DIM) {
            throw new IllegalArgumentException("head dimension " + headDim + " is not supported: it must be a multiple"
                    + " of 4 and at most " + MAX_HEAD_DIM);
        }
    }

    /** Multi-head attention (as many kv heads as query heads). */
    public static AttentionShape of(int batch, int heads, int queryLength, int kvLength, int headDim) {
        return new AttentionShape(batch, heads, heads, queryLength, kvLength, headDim);
    }

    /** 1 / sqrt(headDim), the usual softmax temperature. */
    public float defaultScale() { return (float) (1.0 / Math.sqrt(headDim)); }

    /** Query heads per kv head. */
    public int groupSize() { return heads / kvHeads; }

    /** Output rows: batch * heads * queryLength. */
    public long queryRows() { return (long) batch * heads * queryLength; }

    public long queryElements() { return queryRows() * headDim; }

    public long kvElements() { return (long) batch * kvHeads * kvLength * headDim; }

    public long outputElements() { return queryElements(); }

    /**
     * Floating-point operations of the two matrix products, 4 * B * H * Sq * Skv * D, halved for a
     * causal mask (the conventional count for throughput figures).
     */
    public double flops(boolean causal) {
        double f = 4.0 * batch * heads * queryLength * (double) kvLength * headDim;
        return causal ? f / 2 : f;
    }

    @Override
    public String toString() { return describe(batch, heads, kvHeads, queryLength, kvLength, headDim); }

    private static String describe(int b, int h, int hkv, int sq, int skv, int d) {
        return "B=" + b + " H=" + h + (hkv != h ? " Hkv=" + hkv : "") + " Sq=" + sq + " Skv=" + skv + " D=" + d;
    }
}
