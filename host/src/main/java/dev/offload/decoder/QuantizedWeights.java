package dev.offload.decoder;

import dev.offload.model.gguf.GgmlBlocks;
import dev.offload.model.gguf.GgufFile;
import dev.offload.model.gguf.GgufFormatException;
import dev.offload.model.gguf.GgufTensor;
import dev.offload.ops.blockq.BlockMatrix;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A decoder's weights as the device graph reads them: every matrix a {@link BlockMatrix} — Q8_0, Q4_0, Q4_K and Q6_K
 * tensors are slices of the mapped file (no copy: a Q4_K_M file is resident at its tensor bytes), other types
 * repacked to Q8_0 into {@code arena} at load (see
 * {@link BlockMatrix#fromGguf}) — and the norms and biases (small) as float. The token embedding stays in the file
 * in whatever type it has; {@link #embed} decodes only the rows of the tokens asked for.
 *
 * <p>The file must stay open while these weights are used.
 */
public record QuantizedWeights(GgufTensor tokenEmbedding, List<Layer> layers, float[] outputNorm, BlockMatrix output) {
    /**
     * One block's matrices ([out][in] as ggml stores them) and vectors. Biases are null unless the config says qkvBias,
     * the per-head Q/K norms unless it says qkNorm, the norms after the attention and the feed-forward unless it says
     * postNorms.
     */
    public record Layer(float[] attentionNorm, BlockMatrix wq, float[] bq, BlockMatrix wk, float[] bk, BlockMatrix wv, float[] bv,
                        BlockMatrix wo, float[] ffnNorm, BlockMatrix gate, BlockMatrix up, BlockMatrix down, float[] qNorm, float[] kNorm,
                        float[] attentionPostNorm, float[] ffnPostNorm) {}

    /** Reads {@code c}'s weights from {@code f}; repacked matrices live in {@code arena}. */
    public static QuantizedWeights load(GgufFile f, DecoderConfig c, Arena arena) {
        int h = c.hidden();
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            boolean bias = c.qkvBias();
            layers.add(new Layer(GgufDecoder.vector(f, p + "attn_norm.weight", h),
                    matrix(f, p + "attn_q.weight", h, c.queryDim(), arena), bias ? GgufDecoder.vector(f, p + "attn_q.bias", c.queryDim()) : null,
                    matrix(f, p + "attn_k.weight", h, c.kvDim(), arena), bias ? GgufDecoder.vector(f, p + "attn_k.bias", c.kvDim()) : null,
                    matrix(f, p + "attn_v.weight", h, c.kvDim(), arena), bias ? GgufDecoder.vector(f, p + "attn_v.bias", c.kvDim()) : null,
                    matrix(f, p + "attn_output.weight", c.queryDim(), h, arena), GgufDecoder.vector(f, p + "ffn_norm.weight", h),
                    matrix(f, p + "ffn_gate.weight", h, c.ffn(), arena), matrix(f, p + "ffn_up.weight", h, c.ffn(), arena),
                    matrix(f, p + "ffn_down.weight", c.ffn(), h, arena),
                    c.qkNorm() ? GgufDecoder.vector(f, p + "attn_q_norm.weight", c.headDim()) : null,
                    c.qkNorm() ? GgufDecoder.vector(f, p + "attn_k_norm.weight", c.headDim()) : null,
                    c.postNorms() ? GgufDecoder.vector(f, p + "post_attention_norm.weight", h) : null,
                    c.postNorms() ? GgufDecoder.vector(f, p + "post_ffw_norm.weight", h) : null));
        }
        GgufTensor embedding = GgufDecoder.tensor(f, "token_embd.weight");
        if (!GgmlBlocks.supported(embedding.type()) || h % embedding.type().blockSize() != 0) {
            throw new GgufFormatException(f.path(), "token_embd.weight is " + embedding.type() + ", which offload does not decode by rows");
        }
        // Tied models have no output.weight: the logits read the token embedding ([hidden] x vocab rows, the same layout).
        String out = f.hasTensor("output.weight") && !c.outputTied() ? "output.weight" : "token_embd.weight";
        return new QuantizedWeights(embedding, layers, GgufDecoder.vector(f, "output_norm.weight", h), matrix(f, out, h, c.vocab(), arena));
    }

    private static BlockMatrix matrix(GgufFile f, String name, int in, int out, Arena arena) {
        GgufTensor t = GgufDecoder.tensor(f, name);
        long[] s = t.shape();
        if (s.length != 2 || s[0] != in || s[1] != out) {
            throw new GgufFormatException(f.path(), "tensor '" + name + "' has shape " + Arrays.toString(s) + ", wants [" + in + ", " + out + "]");
        }
        if (in % 32 != 0) throw new GgufFormatException(f.path(), "tensor '" + name + "': " + in + " inputs are not whole blocks of 32");
        try {
            return BlockMatrix.fromGguf(t, arena);
        } catch (IllegalArgumentException e) {
            throw new GgufFormatException(f.path(), "tensor '" + name + "': " + e.getMessage());
        }
    }

    /**
     * The token embedding rows of {@code tokens}, [tokens][hidden] in float, times {@code scale} in float (Gemma's
     * sqrt(hidden), {@link DecoderConfig#embeddingScale}; 1: as decoded).
     */
    public float[] embed(int[] tokens, int hidden, float scale) {
        long vocab = tokenEmbedding.shape()[1];
        long rowBytes = (long) hidden / tokenEmbedding.type().blockSize() * tokenEmbedding.type().blockBytes();
        float[] x = new float[tokens.length * hidden];
        for (int t = 0; t < tokens.length; t++) {
            int id = tokens[t];
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("token " + id + " outside the vocabulary [0, " + vocab + ")");
            GgmlBlocks.decode(tokenEmbedding.type(), tokenEmbedding.data(), id * rowBytes, hidden, x, t * hidden);
        }
        if (scale != 1f) for (int i = 0; i < x.length; i++) x[i] *= scale;
        return x;
    }

    /** Bytes of every matrix's blocks (what goes to the devices), the embedding excluded (it stays on the host). */
    public long matrixBytes() {
        long b = output.blocks().byteSize();
        for (Layer l : layers) {
            for (BlockMatrix m : List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down())) b += m.blocks().byteSize();
        }
        return b;
    }
}
