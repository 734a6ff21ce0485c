package dev.offload.decoder;

import java.util.List;

/**
 * A decoder's weights in float, matrices [in][out] row-major as dev.offload.ops.gemm.Int8GemmReference#fp32Linear reads
 * them. The reference computes from these; device graphs quantize them (or keep the file's blocks).
 *
 * @param tokenEmbedding [vocab][hidden]
 * @param output         [hidden][vocab]; tied models pass the embedding transposed
 */
public record DecoderWeights(float[] tokenEmbedding, List<Layer> layers, float[] outputNorm, float[] output) {
    /**
     * One block. Biases are null unless the config says {@code qkvBias}; the per-head norms of Q and K ({@code headDim}
     * values each) null unless it says {@code qkNorm}; the norms after the attention and after the feed-forward
     * ({@code hidden} values each) null unless it says {@code postNorms}.
     */
    public record Layer(float[] attentionNorm, float[] wq, float[] bq, float[] wk, float[] bk, float[] wv, float[] bv, float[] wo,
                        float[] ffnNorm, float[] wGate, float[] wUp, float[] wDown, float[] qNorm, float[] kNorm,
                        float[] attentionPostNorm, float[] ffnPostNorm) {
        /** A block without norms after its attention and feed-forward (all but Gemma 3). */
        public Layer(float[] attentionNorm, float[] wq, float[] bq, float[] wk, float[] bk, float[] wv, float[] bv, float[] wo,
                     float[] ffnNorm, float[] wGate, float[] wUp, float[] wDown, float[] qNorm, float[] kNorm) {
            this(attentionNorm, wq, bq, wk, bk, wv, bv, wo, ffnNorm, wGate, wUp, wDown, qNorm, kNorm, null, null);
        }

        /** A block without per-head Q/K norms (llama, qwen2). */
        public Layer(float[] attentionNorm, float[] wq, float[] bq, float[] wk, float[] bk, float[] wv, float[] bv, float[] wo,
                     float[] ffnNorm, float[] wGate, float[] wUp, float[] wDown) {
            this(attentionNorm, wq, bq, wk, bk, wv, bv, wo, ffnNorm, wGate, wUp, wDown, null, null);
        }
    }

    /** Checks every array against the config's sizes; a mismatch names the tensor. */
    public void check(DecoderConfig c) {
        size("token embedding", tokenEmbedding, (long) c.vocab() * c.hidden());
        size("output norm", outputNorm, c.hidden());
        size("output", output, (long) c.hidden() * c.vocab());
        if (layers.size() != c.layers()) throw new IllegalArgumentException("decoder weights: " + layers.size() + " layers, the config says " + c.layers());
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            String p = "layer " + i + " ";
            size(p + "attention norm", l.attentionNorm(), c.hidden());
            size(p + "wq", l.wq(), (long) c.hidden() * c.queryDim());
            size(p + "wk", l.wk(), (long) c.hidden() * c.kvDim());
            size(p + "wv", l.wv(), (long) c.hidden() * c.kvDim());
            size(p + "wo", l.wo(), (long) c.queryDim() * c.hidden());
            if (c.qkvBias()) {
                size(p + "bq", l.bq(), c.queryDim());
                size(p + "bk", l.bk(), c.kvDim());
                size(p + "bv", l.bv(), c.kvDim());
            }
            if (c.qkNorm()) {
                size(p + "q norm", l.qNorm(), c.headDim());
                size(p + "k norm", l.kNorm(), c.headDim());
            }
            if (c.postNorms()) {
                size(p + "post-attention norm", l.attentionPostNorm(), c.hidden());
                size(p + "post-feed-forward norm", l.ffnPostNorm(), c.hidden());
            }
            size(p + "ffn norm", l.ffnNorm(), c.hidden());
            size(p + "w gate", l.wGate(), (long) c.hidden() * c.ffn());
            size(p + "w up", l.wUp(), (long) c.hidden() * c.ffn());
            size(p + "w down", l.wDown(), (long) c.ffn() * c.hidden());
        }
    }

    private static void size(String what, float[] a, long want) {
        if (a == null || a.length != want) {
            throw new IllegalArgumentException("decoder weights: " + what + " has " + (a == null ? "no" : a.length) + " values, wants " + want);
        }
    }
}
