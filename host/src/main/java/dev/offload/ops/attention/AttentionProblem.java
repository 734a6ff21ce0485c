package dev.offload.ops.attention;

/**
 * What to compute: O = softmax(cap(scale * Q K^T) + mask) V for a shape, with Q, K, V in a storage format and layout.
 *
 * @param scale   the factor on Q K^T; {@link AttentionShape#defaultScale()} unless the model says otherwise
 * @param softcap with c > 0, each scaled score s becomes c * tanh(s / c) before the mask (Gemma 2's attention logit
 *                soft-capping); 0: none
 */
public record AttentionProblem(AttentionShape shape, Mask mask, float scale, Storage storage, Layout layout, float softcap) {

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

    public AttentionProblem(AttentionShape shape, Mask mask, float scale, Storage storage, Layout layout) {
        this(shape, mask, scale, storage, layout, 0f);
    }

    public AttentionProblem {
        if (shape == null || mask == null || storage == null || layout == null) {
            throw new IllegalArgumentException("shape, mask, storage and layout are required");
        }
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        if (!(softcap >= 0 && Float.isFinite(softcap))) throw new IllegalArgumentException("the soft cap must be >= 0 and finite, got " + softcap);
        mask.check(shape);
    }

    /** No mask, scale 1/sqrt(D), float32 storage. */
    public static AttentionProblem of(AttentionShape shape) {
        return new AttentionProblem(shape, Mask.NONE, shape.defaultScale(), Storage.FLOAT32);
    }

    public AttentionProblem withMask(Mask m) { return new AttentionProblem(shape, m, scale, storage, layout, softcap); }

    public AttentionProblem withScale(float s) { return new AttentionProblem(shape, mask, s, storage, layout, softcap); }

    public AttentionProblem withStorage(Storage s) { return new AttentionProblem(shape, mask, scale, s, layout, softcap); }

    public AttentionProblem withLayout(Layout l) { return new AttentionProblem(shape, mask, scale, storage, l, softcap); }

    public AttentionProblem withSoftcap(float c) { return new AttentionProblem(shape, mask, scale, storage, layout, c); }

    /** Throughput numerator: {@link AttentionShape#flops(boolean)} for this mask's causality. */
    public double flops() { return shape.flops(mask.causal()); }

    @Override
    public String toString() {
        return shape + " mask=" + mask + " scale=" + scale + (softcap > 0 ? " softcap=" + softcap : "") + " " + storage.name().toLowerCase(java.util.Locale.ROOT)
                + (layout == Layout.TOKEN_MAJOR ? " token-major" : "");
    }
}
