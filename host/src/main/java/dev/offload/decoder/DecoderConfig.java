package dev.offload.decoder;

import dev.offload.graph.RotaryEmbedding;
/**
 * The shape of a Llama-family decoder: token embedding, {@code layers} blocks of (RMSNorm, attention with rotary
 * positions and grouped-query heads, RMSNorm, SwiGLU feed-forward), a final RMSNorm and the output projection to
 * the vocabulary.
 *
 * @param ropeBase  the rotary frequency base (theta): pair i of a head turns by pos * base^(-2i / rotaryDims)
 * @param ropeStyle which elements of a head form the rotated pairs
 * @param qkvBias   the Q, K and V projections have biases (Qwen2)
 * @see #qkNorm()
 */
public record DecoderConfig(Architecture architecture, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn,
                            int vocab, int contextLength, float ropeBase, RotaryEmbedding.Style ropeStyle, float rmsEpsilon, boolean qkvBias) {
    /**
     * The architectures offload reads from GGUF files ({@code general.architecture}): {@code llama} (adjacent rotary
     * pairs), {@code qwen2} (Q/K/V biases, NeoX rotary halves) and {@code qwen3} (NeoX halves, no biases, each head of Q
     * and K RMS-normed before its rotation, a head dimension of its own) and {@code gemma} (Gemma 1: NeoX halves, the
     * token embedding scaled by sqrt(hidden), GeGLU feed-forward with GELU's tanh form, the output tied to the embedding).
     */
    public enum Architecture { LLAMA, QWEN2, QWEN3, GEMMA }

    public DecoderConfig {
        require(layers > 0 && hidden > 0 && heads > 0 && kvHeads > 0 && headDim > 0 && ffn > 0 && vocab > 0 && contextLength > 0,
                "every size must be positive");
        require(heads % kvHeads == 0, "heads (" + heads + ") must be a multiple of kv heads (" + kvHeads + ")");
        require(headDim % 2 == 0, "the head dimension (" + headDim + ") must be even for rotary positions");
        // A head width read from a file (attention.key_length) is checked, not trusted: Q's width must fit an int.
        require((long) heads * headDim <= Integer.MAX_VALUE && (long) kvHeads * headDim <= Integer.MAX_VALUE,
                heads + " heads of " + headDim + " values do not fit a tensor row");
        require(ropeBase > 1 && Float.isFinite(ropeBase), "the rotary base must be > 1, got " + ropeBase);
        require(rmsEpsilon > 0 && Float.isFinite(rmsEpsilon), "the RMSNorm epsilon must be > 0, got " + rmsEpsilon);
    }

    private static void require(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException("decoder config: " + what);
    }

    /**
     * Whether each head of Q and of K is RMS-normed (over its {@code headDim} values, with a gamma of its own shared by
     * all heads) after the projection and before the rotation: Qwen3's {@code attn_q_norm} / {@code attn_k_norm}.
     */
    public boolean qkNorm() { return architecture == Architecture.QWEN3; }

    /**
     * What the token embedding's rows are multiplied by before the first layer, in float: sqrt(hidden) rounded to
     * float for Gemma (as llama.cpp's graph scales them), else 1.
     */
    public float embeddingScale() { return architecture == Architecture.GEMMA ? (float) Math.sqrt(hidden) : 1f; }

    /** Whether the feed-forward's gate is GELU (tanh form; Gemma's GeGLU) rather than SiLU (SwiGLU). */
    public boolean geluGate() { return architecture == Architecture.GEMMA; }

    /** Width of the query projection (heads x head dimension). */
    public int queryDim() { return heads * headDim; }

    /** Width of the key and value projections. */
    public int kvDim() { return kvHeads * headDim; }
}
