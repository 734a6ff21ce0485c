package dev.offload.decoder;

import dev.offload.graph.RotaryEmbedding;
import dev.offload.model.gguf.GgmlQuantizer;
import dev.offload.model.gguf.GgmlType;
import dev.offload.model.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tiny llama/qwen2/qwen3 GGUF files with seeded weights and a small SentencePiece vocabulary (byte tokens and a few
 * pieces), written the way GGUF converters lay tensors out: matrices [ne0 = in, ne1 = out], i.e. one row per output.
 * The qwen3 one has heads wider than hidden / heads (4 heads of 32 on a hidden 64, as Qwen3 0.6B has 16 of 128 on
 * 1024), given by {@code attention.key_length}, and per-head Q/K norms; the gemma one such heads, one KV head, and its
 * output always tied to the embedding (llama.cpp's gemma reads no output.weight). The gemma3 one has gemma's heads,
 * Q/K norms, norms after its attention and feed-forward, a sliding window of 5 keys in layer 0 (pattern 2: layer 1 is
 * global) with a rotary base of 10000 there and 10^6 with positions halved (linear RoPE scaling, factor 2) in layer 1.
 */
public final class TinyGgufModels {
    private TinyGgufModels() {}

    public static final int F32 = 0, Q4_0 = 2, Q8_0 = 8;

    /** <unk> <s> </s>, 256 byte tokens, then pieces. */
    static List<String> vocabulary() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) tokens.add(String.format("<0x%02X>", b));
        for (String p : new String[] {"▁", "▁the", "▁a", "e", "t", "a", "o", "n", "▁to", "▁and", "in", "er", "s", "▁of", "th"}) tokens.add(p);
        return tokens;
    }

    public static DecoderConfig config(DecoderConfig.Architecture arch) {
        boolean qwen2 = arch == DecoderConfig.Architecture.QWEN2, qwen3 = arch == DecoderConfig.Architecture.QWEN3;
        boolean gemma3 = arch == DecoderConfig.Architecture.GEMMA3, gemma2 = arch == DecoderConfig.Architecture.GEMMA2;
        boolean gemma = arch == DecoderConfig.Architecture.GEMMA || gemma3;   // one KV head (as Gemma 2B) of 32 (wider than 64 / 4, as Gemma 7B's)
        // Gemma 2: 2 KV heads of 32, a window of 5 keys in layer 0 (its default pattern 2), rotating as layer 1, caps that
        // bite on these weights' scores (about 1) and logits (about 1 to 3), where Gemma 2 2B's 50 and 30 would not.
        DecoderConfig.SlidingWindow window = gemma3 ? new DecoderConfig.SlidingWindow(5, DecoderConfig.SlidingWindow.pattern(2, 2), 10000f)
                : gemma2 ? new DecoderConfig.SlidingWindow(5, DecoderConfig.SlidingWindow.pattern(2, 2), 10000f, 1f) : DecoderConfig.SlidingWindow.NONE;
        return new DecoderConfig(arch, 2, 64, 4, gemma ? 1 : 2, qwen3 || gemma || gemma2 ? 32 : 16, 96, vocabulary().size(), 128, gemma3 ? 1e6f : 10000f,
                arch == DecoderConfig.Architecture.LLAMA ? RotaryEmbedding.Style.ADJACENT_PAIRS : RotaryEmbedding.Style.HALVES, gemma3 ? 1e-6f : 1e-5f, qwen2,
                gemma3 ? 0.5f : 1f, window, gemma2 ? new DecoderConfig.SoftCaps(0.8f, 2f) : DecoderConfig.SoftCaps.NONE);
    }

    /** general.architecture's value for {@code a}. */
    static String archName(DecoderConfig.Architecture a) { return a.name().toLowerCase(java.util.Locale.ROOT); }

    /** Writes {@code w} (for {@code c}) as a GGUF file with matrices in {@code matrixType} (F32, Q8_0 or Q4_0). */
    public static Path write(Path file, DecoderConfig c, DecoderWeights w, int matrixType, boolean tied) throws IOException {
        return write(file, c, w, matrixType, tied, 2);
    }

    /** As above, with {@code eos} as the end-of-sequence id. */
    public static Path write(Path file, DecoderConfig c, DecoderWeights w, int matrixType, boolean tied, int eos) throws IOException {
        return write(file, c, w, matrixType, tied, eos, null);
    }

    /** As above, with a {@code tokenizer.chat_template} (null: none). */
    public static Path write(Path file, DecoderConfig c, DecoderWeights w, int matrixType, boolean tied, int eos, String chatTemplate) throws IOException {
        return write(file, c, w, matrixType, tied, eos, chatTemplate, g -> {});
    }

    /** As above, with {@code more} metadata written after the model's own (bad-file tests). */
    static Path write(Path file, DecoderConfig c, DecoderWeights w, int matrixType, boolean tied, int eos, String chatTemplate,
                      java.util.function.Consumer<GgufWriter> more) throws IOException {
        String arch = archName(c.architecture());
        List<String> tokens = vocabulary();
        int[] types = new int[tokens.size()];
        float[] scores = new float[tokens.size()];
        for (int i = 0; i < types.length; i++) {
            types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
            scores[i] = i < 259 ? 0 : -(i - 258);
        }
        GgufWriter g = new GgufWriter().str("general.architecture", arch).str("general.name", "tiny-" + arch)
                .u32(arch + ".block_count", c.layers()).u32(arch + ".embedding_length", c.hidden())
                .u32(arch + ".feed_forward_length", c.ffn()).u32(arch + ".attention.head_count", c.heads())
                .u32(arch + ".attention.head_count_kv", c.kvHeads()).u32(arch + ".context_length", c.contextLength())
                .f32(arch + ".rope.freq_base", c.ropeBase()).f32(arch + ".attention.layer_norm_rms_epsilon", c.rmsEpsilon())
                .str("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", tokens.toArray(String[]::new))
                .floats("tokenizer.ggml.scores", scores).ints("tokenizer.ggml.token_type", types)
                .u32("tokenizer.ggml.bos_token_id", 1).u32("tokenizer.ggml.eos_token_id", eos);
        if (chatTemplate != null) g.str("tokenizer.chat_template", chatTemplate);
        if (c.headDim() * c.heads() != c.hidden()) g.u32(arch + ".attention.key_length", c.headDim()).u32(arch + ".attention.value_length", c.headDim());
        if (c.ropeScale() != 1f) g.str(arch + ".rope.scaling.type", "linear").f32(arch + ".rope.scaling.factor", 1 / c.ropeScale());
        if (c.window().keys() > 0) {   // the window, every n-th layer global (as Gemma 3's converter writes it) or a flag a layer
            List<Boolean> local = c.window().local();
            int n = 0;
            while (n < c.layers() && local.get(n)) n++;
            g.u32(arch + ".attention.sliding_window", c.window().keys());
            boolean gemma2 = c.architecture() == DecoderConfig.Architecture.GEMMA2;   // its defaults: pattern 2, the global base
            if (!(gemma2 && c.window().ropeBase() == c.ropeBase())) g.f32(arch + ".rope.freq_base_swa", c.window().ropeBase());
            if (gemma2 && local.equals(DecoderConfig.SlidingWindow.pattern(c.layers(), 2))) {
                // nothing: the default
            } else if (local.equals(DecoderConfig.SlidingWindow.pattern(c.layers(), n + 1))) {
                g.u32(arch + ".attention.sliding_window_pattern", n + 1);
            } else {
                g.raw(arch + ".attention.sliding_window_pattern", b -> { b.u32(9).u32(7).u64(local.size()); for (boolean f : local) b.u8(f ? 1 : 0); });
            }
        }
        if (c.softcaps().attention() > 0) g.f32(arch + ".attn_logit_softcapping", c.softcaps().attention());
        if (c.softcaps().logits() > 0) g.f32(arch + ".final_logit_softcapping", c.softcaps().logits());
        more.accept(g);
        // The embedding is stored as it is used: [vocab rows][hidden].
        g.tensor("token_embd.weight", matrixType, new long[] {c.hidden(), c.vocab()}, encode(w.tokenEmbedding(), matrixType));
        for (int i = 0; i < c.layers(); i++) {
            DecoderWeights.Layer l = w.layers().get(i);
            String p = "blk." + i + ".";
            g.tensor(p + "attn_norm.weight", F32, new long[] {c.hidden()}, encode(l.attentionNorm(), F32));
            matrix(g, p + "attn_q.weight", l.wq(), c.hidden(), c.queryDim(), matrixType);
            matrix(g, p + "attn_k.weight", l.wk(), c.hidden(), c.kvDim(), matrixType);
            matrix(g, p + "attn_v.weight", l.wv(), c.hidden(), c.kvDim(), matrixType);
            if (c.qkvBias()) {
                g.tensor(p + "attn_q.bias", F32, new long[] {c.queryDim()}, encode(l.bq(), F32));
                g.tensor(p + "attn_k.bias", F32, new long[] {c.kvDim()}, encode(l.bk(), F32));
                g.tensor(p + "attn_v.bias", F32, new long[] {c.kvDim()}, encode(l.bv(), F32));
            }
            if (c.qkNorm()) {
                g.tensor(p + "attn_q_norm.weight", F32, new long[] {c.headDim()}, encode(l.qNorm(), F32));
                g.tensor(p + "attn_k_norm.weight", F32, new long[] {c.headDim()}, encode(l.kNorm(), F32));
            }
            matrix(g, p + "attn_output.weight", l.wo(), c.queryDim(), c.hidden(), matrixType);
            g.tensor(p + "ffn_norm.weight", F32, new long[] {c.hidden()}, encode(l.ffnNorm(), F32));
            matrix(g, p + "ffn_gate.weight", l.wGate(), c.hidden(), c.ffn(), matrixType);
            matrix(g, p + "ffn_up.weight", l.wUp(), c.hidden(), c.ffn(), matrixType);
            matrix(g, p + "ffn_down.weight", l.wDown(), c.ffn(), c.hidden(), matrixType);
            if (c.postNorms()) {
                g.tensor(p + "post_attention_norm.weight", F32, new long[] {c.hidden()}, encode(l.attentionPostNorm(), F32));
                g.tensor(p + "post_ffw_norm.weight", F32, new long[] {c.hidden()}, encode(l.ffnPostNorm(), F32));
            }
        }
        g.tensor("output_norm.weight", F32, new long[] {c.hidden()}, encode(w.outputNorm(), F32));
        if (!tied && !c.outputTied()) matrix(g, "output.weight", w.output(), c.hidden(), c.vocab(), matrixType);
        return g.write(file);
    }

    /** Seeded random weights for {@code c}. */
    public static DecoderWeights randomWeights(DecoderConfig c, long seed) { return RandomDecoders.weights(c, seed); }

    /** {@code m} is [in][out] (the reference's layout); GGUF stores [out][in]. */
    private static void matrix(GgufWriter g, String name, float[] m, int in, int out, int type) {
        g.tensor(name, type, new long[] {in, out}, encode(GgufDecoder.transpose(m, in, out), type));
    }

    /** F32 as is, Q8_0 and Q4_0 as ggml's reference quantizer makes them. */
    static byte[] encode(float[] v, int type) {
        GgmlType t = switch (type) {
            case F32 -> GgmlType.F32;
            case Q8_0 -> GgmlType.Q8_0;
            case Q4_0 -> GgmlType.Q4_0;
            default -> throw new IllegalArgumentException("tiny models are F32, Q8_0 or Q4_0, not ggml type " + type);
        };
        return GgmlQuantizer.encode(t, v);
    }
}
