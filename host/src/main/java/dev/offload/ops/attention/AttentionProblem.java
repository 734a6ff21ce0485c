package dev.offload.ops.attention;

/**
 * What to compute: O = softmax(scale * Q K^T + mask) V for a shape, with Q, K, V in a storage format and layout.
 *
 * @param scale the factor on Q K^T; {@link AttentionShape#defaultScale()} unless the model says otherwise
 */
public record AttentionProblem(AttentionShape shape, Mask mask, float scale, Storage storage, Layout layout) {

    /** How Q, K, V and O are laid out in memory (the sizes are the same). */
    public enum Layout {
        /** Q, O [B,H,Sq,D]; K, V [B,Hkv,Skv,D]: each head's rows together. */
        HEAD_MAJOR,
        /**
         * Q, O [B,Sq,H,D]; K, V [B,Skv,Hkv,D]: a transformer's [B,S,H*D] activations as they are. The fused kernels
         * only (the graph runtime's attention); the unfused path is head-major.
         */
        TOKEN_MAJOR
    }

    public AttentionProblem(AttentionShape shape, Mask mask, float scale, Storage storage) {
        this(shape, mask, scale, storage, Layout.HEAD_MAJOR);
    }

    public AttentionProblem {
        if (shape == null || mask == null || storage == null || layout == null) {
            throw new IllegalArgumentException("shape, mask, storage and layout are required");
        }
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        mask.check(shape);
    }

    /** No mask, scale 1/sqrt(D), float32 storage. */
    public static AttentionProblem of(AttentionShape shape) {
        return new AttentionProblem(shape, Mask.NONE, shape.defaultScale(), Storage.FLOAT32);
    }

    public AttentionProblem withMask(Mask m) { return new AttentionProblem(shape, m, scale, storage, layout); }

    public AttentionProblem withScale(float s) { return new AttentionProblem(shape, mask, s, storage, layout); }

    public AttentionProblem withStorage(Storage s) { return new AttentionProblem(shape, mask, scale, s, layout); }

    public AttentionProblem withLayout(Layout l) { return new AttentionProblem(shape, mask, scale, storage, l); }

    /** Throughput numerator: {@link AttentionShape#flops(boolean)} for this mask's causality. */
    public double flops() { return shape.flops(mask.causal()); }

    @Override
    public String toString() {
        return shape + " mask=" + mask + " scale=" + scale + " " + storage.name().toLowerCase(java.util.Locale.ROOT)
                + (layout == Layout.TOKEN_MAJOR ? " token-major" : "");
    }
}
