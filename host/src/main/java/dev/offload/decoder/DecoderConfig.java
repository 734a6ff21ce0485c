package dev.offload.decoder;

import dev.offload.graph.RotaryEmbedding;
import java.util.List;

/**
 * The shape of a Llama-family decoder: token embedding, {@code layers} blocks of (RMSNorm, attention with rotary
 * positions and grouped-query heads, RMSNorm, SwiGLU feed-forward), a final RMSNorm and the output projection to
 * the vocabulary.
 *
 * @param ropeBase  the rotary frequency base (theta): pair i of a head turns by pos * base^(-2i / rotaryDims)
 * @param ropeStyle which elements of a head form the rotated pairs
 * @param qkvBias   the Q, K and V projections have biases (Qwen2)
 * @param ropeScale positions are multiplied by this before the rotation (linear RoPE scaling: 1 / the file's
 *                  rope.scaling.factor; 1 for none), in the layers with global attention
 * @param window    the sliding-window attention of some layers ({@link SlidingWindow#NONE}: none)
 * @param softcaps  soft-capping of attention scores and of the logits ({@link SoftCaps#NONE}: none)
 * @see #qkNorm()
 */
public record DecoderConfig(Architecture architecture, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn,
                            int vocab, int contextLength, float ropeBase, RotaryEmbedding.Style ropeStyle, float rmsEpsilon, boolean qkvBias,
                            float ropeScale, SlidingWindow window, SoftCaps softcaps) {
    /**
     * The architectures offload reads from GGUF files ({@code general.architecture}): {@code llama} (adjacent rotary
     * pairs), {@code qwen2} (Q/K/V biases, NeoX rotary halves) and {@code qwen3} (NeoX halves, no biases, each head of Q
     * and K RMS-normed before its rotation, a head dimension of its own), {@code gemma} (Gemma 1: NeoX halves, the
     * token embedding scaled by sqrt(hidden), GeGLU feed-forward with GELU's tanh form, the output tied to the embedding),
     * {@code gemma2} (Gemma 2: Gemma's embedding scale and GeGLU, an RMSNorm after the attention and after the
     * feed-forward, each before its residual add, sliding-window attention in every other layer, attention scores and
     * logits soft-capped) and {@code gemma3} (Gemma 3: as Gemma 2 without the caps, with Qwen3's per-head Q/K norms and
     * sliding windows with a rotary base of their own in five of every six layers).
     */
    public enum Architecture { LLAMA, QWEN2, QWEN3, GEMMA, GEMMA2, GEMMA3 }

    /**
     * Soft-capping (Gemma 2): with c > 0 a value x becomes c * tanh(x / c). {@code attention} takes each scaled
     * attention score before the softmax, {@code logits} each output logit; 0: none.
     */
    public record SoftCaps(float attention, float logits) {
        public static final SoftCaps NONE = new SoftCaps(0f, 0f);

        public SoftCaps {
            require(attention >= 0 && Float.isFinite(attention) && logits >= 0 && Float.isFinite(logits),
                    "soft caps must be >= 0 and finite, got " + attention + " and " + logits);
        }

        /** The logits capped in place as llama.cpp's graph does: scaled by 1 / c, tanh, scaled by c, in float. */
        public void capLogits(float[] x) {
            if (logits == 0) return;
            float inverse = 1f / logits;
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.tanh(x[i] * inverse) * logits;
        }
    }

    /**
     * Sliding-window attention: the layers marked in {@code local} attend to the last {@code keys} positions only (their
     * own and the ones before) and rotate with {@code ropeBase}, positions times {@code ropeScale}; the others attend to
     * the whole past. {@code keys} 0 (with no layers marked): none.
     */
    public record SlidingWindow(int keys, List<Boolean> local, float ropeBase, float ropeScale) {
        public static final SlidingWindow NONE = new SlidingWindow(0, List.of(), 0f, 1f);

        public SlidingWindow {
            local = List.copyOf(local);
            require(keys >= 0 && (keys > 0 || local.isEmpty()), "a sliding window needs >= 1 keys, got " + keys);
            require(keys == 0 || (ropeBase > 1 && Float.isFinite(ropeBase)), "the local layers' rotary base must be > 1, got " + ropeBase);
            require(ropeScale > 0 && ropeScale <= 1, "the local layers' RoPE position scale must be in (0, 1], got " + ropeScale);
        }

        /** Local layers whose positions are not scaled (Gemma 3's: llama.cpp's freq_scale_swa of 1). */
        public SlidingWindow(int keys, List<Boolean> local, float ropeBase) { this(keys, local, ropeBase, 1f); }

        /**
         * llama.cpp's rule for a pattern of n ({@code attention.sliding_window_pattern} as a number, Gemma 3's 6 by
         * default): layer i is local unless i % n == n - 1 (n = 0: every layer local).
         */
        public static List<Boolean> pattern(int layers, int n) {
            Boolean[] local = new Boolean[layers];
            for (int i = 0; i < layers; i++) local[i] = n == 0 || i % n < n - 1;
            return List.of(local);
        }

        boolean isLocal(int layer) { return keys > 0 && local.get(layer); }
    }

    /** A config without RoPE scaling or sliding windows. */
    public DecoderConfig(Architecture architecture, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab,
                         int contextLength, float ropeBase, RotaryEmbedding.Style ropeStyle, float rmsEpsilon, boolean qkvBias) {
        this(architecture, layers, hidden, heads, kvHeads, headDim, ffn, vocab, contextLength, ropeBase, ropeStyle, rmsEpsilon, qkvBias,
                1f, SlidingWindow.NONE, SoftCaps.NONE);
    }

    /** A config without soft caps. */
    public DecoderConfig(Architecture architecture, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab,
                         int contextLength, float ropeBase, RotaryEmbedding.Style ropeStyle, float rmsEpsilon, boolean qkvBias,
                         float ropeScale, SlidingWindow window) {
        this(architecture, layers, hidden, heads, kvHeads, headDim, ffn, vocab, contextLength, ropeBase, ropeStyle, rmsEpsilon, qkvBias,
                ropeScale, window, SoftCaps.NONE);
    }

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
        require(ropeScale > 0 && ropeScale <= 1, "the RoPE position scale must be in (0, 1], got " + ropeScale);
        require(window != null && (window.keys() == 0 || window.local().size() == layers),
                "the sliding-window pattern must name each of the " + layers + " layers");
        require(softcaps != null, "soft caps are required (SoftCaps.NONE: none)");
    }

    private static void require(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException("decoder config: " + what);
    }

    /**
     * Whether each head of Q and of K is RMS-normed (over its {@code headDim} values, with a gamma of its own shared by
     * all heads) after the projection and before the rotation: Qwen3's {@code attn_q_norm} / {@code attn_k_norm}.
     */
    public boolean qkNorm() { return architecture == Architecture.QWEN3 || architecture == Architecture.GEMMA3; }

    /**
     * Whether the attention's output projection and the feed-forward's down projection are RMS-normed (each with a gamma
     * of its own) before their residual adds: Gemma 3's post_attention_norm and post_ffw_norm.
     */
    public boolean postNorms() { return architecture == Architecture.GEMMA2 || architecture == Architecture.GEMMA3; }

    /** The keys layer {@code layer}'s attention sees back from each query (its sliding window), 0 for all of them. */
    public int attentionWindow(int layer) { return window.isLocal(layer) ? window.keys() : 0; }

    /** The rotary base of layer {@code layer}: the local layers' own under a sliding window, else {@link #ropeBase}. */
    public float ropeBase(int layer) { return window.isLocal(layer) ? window.ropeBase() : ropeBase; }

    /** The position scale of layer {@code layer}'s rotation: the sliding-window layers' own, else {@link #ropeScale}. */
    public float ropeScale(int layer) { return window.isLocal(layer) ? window.ropeScale() : ropeScale; }

    /**
     * What the attention scores are scaled by: 1 / sqrt(headDim), but for the 27B Gemma 2 and 3 (46 and 62 layers, as
     * llama.cpp tells them from the others: their query_pre_attn_scalar is hidden / heads) 1 / sqrt(hidden / heads).
     */
    public float attentionScale() {
        boolean big = (architecture == Architecture.GEMMA2 && layers == 46) || (architecture == Architecture.GEMMA3 && layers == 62);
        return big ? (float) (1.0 / Math.sqrt((double) (hidden / heads))) : (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * What the token embedding's rows are multiplied by before the first layer, in float: sqrt(hidden) rounded to
     * float for Gemma (as llama.cpp's graph scales them), else 1.
     */
    public float embeddingScale() { return gemma() ? (float) Math.sqrt(hidden) : 1f; }

    /** Whether the feed-forward's gate is GELU (tanh form; Gemma's GeGLU) rather than SiLU (SwiGLU). */
    public boolean geluGate() { return gemma(); }

    private boolean gemma() { return architecture == Architecture.GEMMA || architecture == Architecture.GEMMA2 || architecture == Architecture.GEMMA3; }

    /**
     * Whether the output projection is the token embedding even where the file has an output.weight: Gemma and Gemma 2,
     * whose llama.cpp graphs read no other (elsewhere a file without output.weight is tied).
     */
    public boolean outputTied() { return architecture == Architecture.GEMMA || architecture == Architecture.GEMMA2; }

    /** Width of the query projection (heads x head dimension). */
    public int queryDim() { return heads * headDim; }

    /** Width of the key and value projections. */
    public int kvDim() { return kvHeads * headDim; }
}
