package dev.offload.decoder;

import dev.offload.graph.RotaryEmbedding;
import dev.offload.model.gguf.GgmlBlocks;
import dev.offload.model.gguf.GgufFile;
import dev.offload.model.gguf.GgufFormatException;
import dev.offload.model.gguf.GgufMetadata;
import dev.offload.model.gguf.GgufTensor;
import dev.offload.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A Llama-family decoder read from a GGUF file: its config from the {@code <arch>.*} metadata, its tokenizer and chat
 * template; its weights either decoded to float for the reference ({@link #floatWeights}: {@link GgmlBlocks}, every
 * type it supports, in ggml's arithmetic) or kept in blocks for the devices ({@link QuantizedWeights}).
 * Architectures: {@code llama} (Llama 2/3, TinyLlama, Mistral, SmolLM2: rotary pairs adjacent, as GGUF converters
 * lay out Q and K), {@code qwen2} (Q/K/V biases, NeoX rotary halves) and {@code qwen3} (NeoX halves, per-head RMSNorm
 * of Q and K, a head dimension from {@code attention.key_length} that need not be hidden / heads) and {@code gemma}
 * (Gemma 1: NeoX halves, the embedding scaled by sqrt(hidden), GeGLU, the output tied) and {@code gemma3} (Gemma 3: as
 * Gemma, with Qwen3's per-head Q/K norms, norms after the attention and the feed-forward, sliding-window layers;
 * {@link DecoderConfig.Architecture}). Anything missing or inconsistent is a
 * {@link GgufFormatException} naming the file and the key or tensor.
 */
public record GgufDecoder(String name, DecoderConfig config, TextTokenizer tokenizer, Optional<String> chatTemplate) {
    public static final String ARCHITECTURE = "general.architecture";

    /** Reads the model's description: config, tokenizer and chat template (no weights; see {@link #floatWeights}). */
    public static GgufDecoder read(GgufFile file) {
        GgufMetadata md = file.metadata();
        DecoderConfig config = config(file);
        TextTokenizer tokenizer = TextTokenizer.fromGguf(md);
        if (tokenizer.vocabularySize() != config.vocab()) {
            throw md.problem("the tokenizer has " + tokenizer.vocabularySize() + " tokens but token_embd.weight has " + config.vocab() + " rows");
        }
        String name = md.optString("general.name").orElse(file.path().getFileName().toString());
        return new GgufDecoder(name, config, tokenizer, md.optString("tokenizer.chat_template"));
    }

    /**
     * The weights decoded to float for the java reference (copied out: the file may be closed afterwards); refused up
     * front when they do not fit the heap.
     */
    public DecoderWeights floatWeights(GgufFile file) {
        checkHeap(file, config);
        return weights(file, config);
    }

    /** The config from the metadata, checked against the token embedding's shape. */
    public static DecoderConfig config(GgufFile file) {
        GgufMetadata md = file.metadata();
        String arch = md.string(ARCHITECTURE);
        DecoderConfig.Architecture a = switch (arch) {
            case "llama" -> DecoderConfig.Architecture.LLAMA;
            case "qwen2" -> DecoderConfig.Architecture.QWEN2;
            case "qwen3" -> DecoderConfig.Architecture.QWEN3;
            case "gemma" -> DecoderConfig.Architecture.GEMMA;
            case "gemma2" -> DecoderConfig.Architecture.GEMMA2;
            case "gemma3" -> DecoderConfig.Architecture.GEMMA3;
            default -> throw md.problem("architecture '" + arch + "' is not supported (supported: llama, qwen2, qwen3, gemma, gemma2, gemma3)");
        };
        int layers = positive(md, arch + ".block_count"), hidden = positive(md, arch + ".embedding_length");
        int heads = positive(md, arch + ".attention.head_count");
        int kvHeads = md.optInteger(arch + ".attention.head_count_kv").map(v -> checked(md, arch + ".attention.head_count_kv", v)).orElse(heads);
        int ffn = positive(md, arch + ".feed_forward_length"), context = positive(md, arch + ".context_length");
        // A head's width: attention.key_length where the file gives it (Qwen3 0.6B: 16 heads of 128 on a hidden 1024),
        // else hidden / heads. Values are as wide as keys here (value_length, where given, must agree).
        int headDim;
        if (md.contains(arch + ".attention.key_length")) {
            headDim = positive(md, arch + ".attention.key_length");
            if (md.contains(arch + ".attention.value_length") && positive(md, arch + ".attention.value_length") != headDim) {
                throw md.problem(arch + ".attention.value_length " + md.integer(arch + ".attention.value_length") + " != key_length " + headDim
                        + " (values as wide as keys only)");
            }
        } else {
            if (hidden % heads != 0) throw md.problem(arch + ".embedding_length " + hidden + " is not a multiple of the head count " + heads);
            headDim = hidden / heads;
        }
        int rotary = md.optInteger(arch + ".rope.dimension_count").map(v -> checked(md, arch + ".rope.dimension_count", v)).orElse(headDim);
        if (rotary != headDim) throw md.problem(arch + ".rope.dimension_count " + rotary + " != head dimension " + headDim + " (partial rotary is not supported)");
        float ropeScale = ropeScale(md, arch);
        float base = md.contains(arch + ".rope.freq_base") ? (float) md.real(arch + ".rope.freq_base") : 10000f;
        DecoderConfig.SoftCaps caps = softCaps(md, arch, a);
        DecoderConfig.SlidingWindow window = slidingWindow(md, arch, a, layers, base, ropeScale);
        float eps = (float) md.real(arch + ".attention.layer_norm_rms_epsilon");
        long[] embd = tensor(file, "token_embd.weight").shape();
        if (embd.length != 2 || embd[0] != hidden) {
            throw md.problem("token_embd.weight has shape " + Arrays.toString(embd) + ", wants [" + hidden + ", vocab]");
        }
        int vocab = Math.toIntExact(embd[1]);
        try {
            return new DecoderConfig(a, layers, hidden, heads, kvHeads, headDim, ffn, vocab, context, base,
                    a == DecoderConfig.Architecture.LLAMA ? RotaryEmbedding.Style.ADJACENT_PAIRS : RotaryEmbedding.Style.HALVES,
                    eps, a == DecoderConfig.Architecture.QWEN2, ropeScale, window, caps);
        } catch (IllegalArgumentException e) {
            throw md.problem(e.getMessage());
        }
    }

    /** 1 / rope.scaling.factor for linear scaling (Gemma 3 4B and up: 8 on the global layers), 1 for none. */
    private static float ropeScale(GgufMetadata md, String arch) {
        String key = arch + ".rope.scaling.type";
        String type = md.contains(key) ? md.string(key) : "none";
        return switch (type) {
            case "none" -> 1f;
            case "linear" -> {
                double factor = md.real(arch + ".rope.scaling.factor");
                if (!(factor >= 1 && factor <= 1 << 16)) throw md.problem(arch + ".rope.scaling.factor " + factor + " is outside 1..65536");
                yield (float) (1 / factor);
            }
            default -> throw md.problem(key + " '" + type + "' is not supported yet (none or linear)");
        };
    }

    /**
     * Gemma 2's soft caps (attn_logit_softcapping, final_logit_softcapping; absent: none), as llama.cpp reads them; a
     * Gemma 3 file may cap its logits too. Elsewhere a cap is refused: it would change what the model computes.
     */
    private static DecoderConfig.SoftCaps softCaps(GgufMetadata md, String arch, DecoderConfig.Architecture a) {
        float attention = cap(md, arch + ".attn_logit_softcapping"), logits = cap(md, arch + ".final_logit_softcapping");
        boolean gemma2 = a == DecoderConfig.Architecture.GEMMA2;
        if ((attention > 0 && !gemma2) || (logits > 0 && !gemma2 && a != DecoderConfig.Architecture.GEMMA3)) {
            throw md.problem(arch + " with soft-capping (" + (attention > 0 ? "attn_logit_softcapping " + attention : "final_logit_softcapping " + logits)
                    + ") is not supported (soft caps: gemma2; gemma3's logits)");
        }
        return new DecoderConfig.SoftCaps(attention, logits);
    }

    private static float cap(GgufMetadata md, String key) {
        if (!md.contains(key)) return 0f;
        double c = md.real(key);
        if (!(c >= 0 && c <= 1e6)) throw md.problem(key + " " + c + " is outside 0..1e6");
        return (float) c;
    }

    /**
     * The sliding window, as llama.cpp reads it. Gemma 3: attention.sliding_window keys (absent or 0: none), the local
     * layers from attention.sliding_window_pattern (an array of bools, one a layer, or a number n: every n-th layer
     * global, 6 when absent), their rotary base from rope.freq_base_swa (10000 when absent), positions unscaled. Gemma 2:
     * a window of 4096 keys when the file names none, pattern 2 by default, the local layers rotating as the global ones
     * unless rope.freq_base_swa says otherwise.
     */
    private static DecoderConfig.SlidingWindow slidingWindow(GgufMetadata md, String arch, DecoderConfig.Architecture a, int layers,
                                                             float globalBase, float globalScale) {
        String key = arch + ".attention.sliding_window";
        boolean gemma2 = a == DecoderConfig.Architecture.GEMMA2;
        if (!md.contains(key) && !gemma2) return DecoderConfig.SlidingWindow.NONE;
        if (a != DecoderConfig.Architecture.GEMMA3 && !gemma2) throw md.problem(key + " is not supported for " + arch + " (sliding windows: gemma2, gemma3)");
        long keys = md.contains(key) ? md.integer(key) : 4096;
        if (keys == 0) return DecoderConfig.SlidingWindow.NONE;
        if (keys < 1 || keys > (1 << 24)) throw md.problem(key + " = " + keys + " is outside 1.." + (1 << 24));
        String patternKey = arch + ".attention.sliding_window_pattern";
        List<Boolean> local;
        if (md.get(patternKey).orElse(null) instanceof dev.offload.model.gguf.GgufValue.Array arr) {
            if (!(arr.elements() instanceof boolean[] flags)) throw md.problem(patternKey + " must be an array of bools or a number");
            if (flags.length != layers) throw md.problem(patternKey + " has " + flags.length + " entries for " + layers + " layers");
            Boolean[] boxed = new Boolean[layers];
            for (int i = 0; i < layers; i++) boxed[i] = flags[i];
            local = List.of(boxed);
        } else {
            long n = md.optInteger(patternKey).orElse(gemma2 ? 2L : 6L);
            if (n < 0 || n > layers) throw md.problem(patternKey + " = " + n + " is outside 0.." + layers);
            local = DecoderConfig.SlidingWindow.pattern(layers, (int) n);
        }
        float base = md.contains(arch + ".rope.freq_base_swa") ? (float) md.real(arch + ".rope.freq_base_swa") : gemma2 ? globalBase : 10000f;
        return new DecoderConfig.SlidingWindow((int) keys, local, base, gemma2 ? globalScale : 1f);
    }

    private static DecoderWeights weights(GgufFile f, DecoderConfig c) {
        int h = c.hidden();
        float[] embedding = matrix(f, "token_embd.weight", h, c.vocab(), false);   // [vocab][hidden] as stored
        List<DecoderWeights.Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            boolean bias = c.qkvBias();
            layers.add(new DecoderWeights.Layer(vector(f, p + "attn_norm.weight", h),
                    matrix(f, p + "attn_q.weight", h, c.queryDim(), true), bias ? vector(f, p + "attn_q.bias", c.queryDim()) : null,
                    matrix(f, p + "attn_k.weight", h, c.kvDim(), true), bias ? vector(f, p + "attn_k.bias", c.kvDim()) : null,
                    matrix(f, p + "attn_v.weight", h, c.kvDim(), true), bias ? vector(f, p + "attn_v.bias", c.kvDim()) : null,
                    matrix(f, p + "attn_output.weight", c.queryDim(), h, true), vector(f, p + "ffn_norm.weight", h),
                    matrix(f, p + "ffn_gate.weight", h, c.ffn(), true), matrix(f, p + "ffn_up.weight", h, c.ffn(), true),
                    matrix(f, p + "ffn_down.weight", c.ffn(), h, true),
                    c.qkNorm() ? vector(f, p + "attn_q_norm.weight", c.headDim()) : null,
                    c.qkNorm() ? vector(f, p + "attn_k_norm.weight", c.headDim()) : null,
                    c.postNorms() ? vector(f, p + "post_attention_norm.weight", h) : null,
                    c.postNorms() ? vector(f, p + "post_ffw_norm.weight", h) : null));
        }
        // Tied models have no output.weight: the logits read the token embedding.
        float[] output = f.hasTensor("output.weight") && !c.outputTied() ? matrix(f, "output.weight", h, c.vocab(), true) : transpose(embedding, c.vocab(), h);
        return new DecoderWeights(embedding, layers, vector(f, "output_norm.weight", h), output);
    }

    /**
     * Heap bytes the reference needs for {@code c}'s weights as float: 4 bytes a value (the output projection always
     * has its own [hidden][vocab] copy, tied or not), plus the largest matrix twice while it is decoded and transposed.
     */
    static long floatWeightBytes(DecoderConfig c) {
        long values = 2L * c.vocab() * c.hidden()
                + (long) c.layers() * ((long) c.hidden() * (c.queryDim() + 2L * c.kvDim()) + (long) c.queryDim() * c.hidden()
                + 3L * c.hidden() * c.ffn());
        long largest = Math.max((long) c.vocab() * c.hidden(), (long) c.hidden() * c.ffn());
        return 4 * (values + 2 * largest);
    }

    /** Refuses up front, naming the need, rather than dying of OutOfMemoryError halfway through a large model. */
    static void checkHeap(java.nio.file.Path file, DecoderConfig c, long availableBytes) {
        long need = floatWeightBytes(c);
        if (need > availableBytes) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: the java reference holds the weights as float: it needs"
                    + " %.1f GiB of heap and %.1f GiB are free (give java a larger -Xmx; the device decoder will not need this)",
                    file, need / (double) (1L << 30), availableBytes / (double) (1L << 30)));
        }
    }

    private static void checkHeap(GgufFile f, DecoderConfig c) {
        Runtime rt = Runtime.getRuntime();
        checkHeap(f.path(), c, rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()));
    }

    static GgufTensor tensor(GgufFile f, String name) {
        if (!f.hasTensor(name)) throw new GgufFormatException(f.path(), "tensor '" + name + "' is missing");
        return f.tensor(name);
    }

    /**
     * A ggml matrix [ne1 = out][ne0 = in] decoded; {@code transposed}: returned [in][out] for the reference's linears.
     */
    private static float[] matrix(GgufFile f, String name, int in, int out, boolean transposed) {
        GgufTensor t = tensor(f, name);
        long[] s = t.shape();
        if (s.length != 2 || s[0] != in || s[1] != out) {
            throw new GgufFormatException(f.path(), "tensor '" + name + "' has shape " + Arrays.toString(s) + ", wants [" + in + ", " + out + "]");
        }
        float[] rows = decode(f, t);
        return transposed ? transpose(rows, out, in) : rows;
    }

    static float[] vector(GgufFile f, String name, int n) {
        GgufTensor t = tensor(f, name);
        if (t.info().elementCount() != n) throw new GgufFormatException(f.path(), "tensor '" + name + "' has " + t.info().elementCount() + " values, wants " + n);
        return decode(f, t);
    }

    private static float[] decode(GgufFile f, GgufTensor t) {
        if (!GgmlBlocks.supported(t.type())) {
            throw new GgufFormatException(f.path(), "tensor '" + t.name() + "' is " + t.type() + ", which offload does not decode yet");
        }
        return GgmlBlocks.decode(t);
    }

    /** [rows][cols] -> [cols][rows]. */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    private static int positive(GgufMetadata md, String key) { return checked(md, key, md.integer(key)); }

    private static int checked(GgufMetadata md, String key, long v) {
        if (v < 1 || v > (1 << 24)) throw md.problem(key + " = " + v + " is outside 1.." + (1 << 24));
        return (int) v;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s (%s, %d layers, hidden %d, %d heads / %d kv, ffn %d, vocab %d, context %d)", name,
                config.architecture().name().toLowerCase(Locale.ROOT), config.layers(), config.hidden(), config.heads(),
                config.kvHeads(), config.ffn(), config.vocab(), config.contextLength());
    }
}
