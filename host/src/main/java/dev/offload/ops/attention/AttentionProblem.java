package dev.offload.ops.attention;

/**
 * What to compute: O = softmax(scale * Q K^T + mask) V for a shape, with Q, K, V in a storage format.
 *
 * @param scale the factor on Q K^T; {@link AttentionShape#defaultScale()} unless the model says otherwise
 */
public record AttentionProblem(AttentionShape shape, Mask mask, float scale, Storage storage) {

    public AttentionProblem {
        if (shape == null || mask == null || storage == null) throw new IllegalArgumentException("shape, mask and storage are required");
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        mask.check(shape);
    }

    /** No mask, scale 1/sqrt(D), float32 storage. */
    public static AttentionProblem of(AttentionShape shape) {
        return new AttentionProblem(shape, Mask.NONE, shape.defaultScale(), Storage.FLOAT32);
    }

    public AttentionProblem withMask(Mask m) { return new AttentionProblem(shape, m, scale, storage); }

    public AttentionProblem withScale(float s) { return new AttentionProblem(shape, mask, s, storage); }

    public AttentionProblem withStorage(Storage s) { return new AttentionProblem(shape, mask, scale, s); }

    /** Throughput numerator: {@link AttentionShape#flops(boolean)} for this mask's causality. */
    public double flops() { return shape.flops(mask.causal()); }

    @Override
    public String toString() {
        return shape + " mask=" + mask + " scale=" + scale + " " + storage.name().toLowerCase(java.util.Locale.ROOT);
    }
}
