package dev.offload.decoder;

import dev.offload.model.gguf.GgmlQuantizer;
import dev.offload.model.gguf.GgmlType;
import dev.offload.model.gguf.GgufWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Llama-architecture GGUF models with seeded weights (and one Gemma-3-shaped {@code gemma3} one, {@link Shape#GEMMA_3_1B}),
 * made here because no registry reachable from this machine ships trained decoder weights: the same bytes for the same shape, type and seed, on any machine. Benchmarks run
 * offload and llama.cpp on them side by side; tests load them like any model file.
 *
 * <p>Weights are normal with standard deviation {@value #STD} (RMSNorm gains 1 + that noise), which keeps every
 * activation and logit finite and varied through the layers; matrices are stored in the chosen {@link FileType}
 * (all Q8_0 or all Q4_0, made by ggml's reference quantizers, or a Q4_K_M-style mix of Q4_K and Q6_K made by
 * {@link GgmlQuantizer}'s own K quantizers), norms in F32, the output projection untied. The vocabulary is the real
 * Llama 3 tokenizer when llama.cpp's {@code ggml-vocab-llama-bpe.gguf} is at hand ({@link SeededVocabulary}).
 *
 * <p>{@link #cached} keeps the files under a cache folder (the bench passes {@code ~/.cache/offload/models}), named by
 * shape, type, seed and vocabulary, written to a temporary file first and renamed, so a half-written model is never
 * taken for a whole one. Tensors stream to disk row by row: a 1.6 GB model never sits in memory.
 */
public final class SeededLlamaModel {
    /** Standard deviation of every weight. */
    public static final double STD = 0.02;

    /** Bumped whenever the bytes for a given spec change, so caches of older files are not reused. */
    static final int FORMAT = 1;

    /** Model shapes by name; the vocabulary size comes from the {@link SeededVocabulary}. */
    public enum Shape {
        /** A few MB of matrices besides the vocabulary: --quick benches and tests. */
        TINY("tiny", 2, 64, 192, 4, 2, 2048),
        /** 4 layers of hidden 512: a model the java reference decodes in seconds. */
        SMALL("small", 4, 512, 1536, 8, 2, 2048),
        /** Llama-3.2-1B's shapes: 16 layers, hidden 2048, FFN 8192, 32 heads / 8 KV heads (head dim 64), context 131072. */
        LLAMA_3_2_1B("1b", 16, 2048, 8192, 32, 8, 131072),
        /**
         * Gemma-3-1B's shapes, as a {@code gemma3} file: 26 layers, hidden 1152, FFN 6912, 4 heads of 256 / 1 KV head,
         * a 512-key sliding window in five of every six layers (their RoPE base 10000, the others' 10^6), Q/K norms, norms
         * after the attention and the feed-forward, the output tied to the embedding; context 32768.
         */
        GEMMA_3_1B("gemma3_1b", 26, 1152, 6912, 4, 1, 32768, 256, "gemma3");

        public final String id;
        public final int layers, hidden, ffn, heads, kvHeads, contextLength;
        private final int headDim;
        /** general.architecture's value: llama, or gemma3. */
        public final String architecture;

        Shape(String id, int layers, int hidden, int ffn, int heads, int kvHeads, int contextLength) {
            this(id, layers, hidden, ffn, heads, kvHeads, contextLength, hidden / heads, "llama");
        }

        Shape(String id, int layers, int hidden, int ffn, int heads, int kvHeads, int contextLength, int headDim, String architecture) {
            this.id = id;
            this.layers = layers;
            this.hidden = hidden;
            this.ffn = ffn;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.contextLength = contextLength;
            this.headDim = headDim;
            this.architecture = architecture;
        }

        public int headDim() { return headDim; }

        /** Width of the query projection. */
        public int queryDim() { return heads * headDim; }

        boolean gemma3() { return architecture.equals("gemma3"); }

        public int kvDim() { return kvHeads * headDim(); }

        /** The shape called {@code id} (tiny, small, 1b, gemma3_1b). */
        public static Shape named(String id) {
            for (Shape s : values()) if (s.id.equals(id)) return s;
            throw new IllegalArgumentException("no seeded model shape '" + id + "' (shapes: tiny, small, 1b, gemma3_1b)");
        }
    }

    /** Llama 3's rotary base. */
    public static final float ROPE_BASE = 500000f;

    public static final float RMS_EPSILON = 1e-5f;

    /** Gemma 3's global rotary base, RMSNorm epsilon and sliding window (its 1B's). */
    static final float GEMMA3_ROPE_BASE = 1e6f, GEMMA3_RMS_EPSILON = 1e-6f;
    static final int GEMMA3_WINDOW = 512;

    /**
     * How the matrices are stored, named as llama.cpp names a file's type (general.file_type). Q4_K_M follows
     * llama.cpp's mix roughly: Q4_K everywhere but the output projection and, in the layers llama.cpp gives more bits
     * (the first and last eighth, and every third between), attn_v and ffn_down, which are Q6_K. A matrix whose rows
     * are not whole 256-value super-blocks (the tiny shape's 64 and 192) falls back to a 32-value type, as llama.cpp
     * falls back: Q4_0 for Q4_K, Q8_0 for Q6_K.
     */
    public enum FileType {
        Q8_0(7), Q4_0(2), Q4_K_M(15);

        /** llama.cpp's {@code LLAMA_FTYPE_MOSTLY_*} number. */
        public final int llamaFileType;

        FileType(int llamaFileType) { this.llamaFileType = llamaFileType; }

        /** The ggml type of matrix {@code name} ({@code blk.i.*} in layer i of {@code layers}) with rows of {@code in} values. */
        public GgmlType matrixType(String name, int layers, int in) {
            return switch (this) {
                case Q8_0 -> GgmlType.Q8_0;
                case Q4_0 -> GgmlType.Q4_0;
                case Q4_K_M -> {
                    boolean moreBits = name.equals("output.weight")
                            || (name.endsWith("attn_v.weight") || name.endsWith("ffn_down.weight")) && moreBits(layerOf(name), layers);
                    boolean whole = in % GgmlType.Q4_K.blockSize() == 0;
                    yield moreBits ? (whole ? GgmlType.Q6_K : GgmlType.Q8_0) : (whole ? GgmlType.Q4_K : GgmlType.Q4_0);
                }
            };
        }

        private static int layerOf(String name) { return Integer.parseInt(name.substring(4, name.indexOf('.', 4))); }

        /** llama.cpp's "use more bits" layers: the first and last eighth, and every third one between. */
        private static boolean moreBits(int layer, int layers) {
            return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
        }
    }

    /** What to make: a shape, how its matrices are stored, and the seed of its weights. */
    public record Spec(Shape shape, FileType type, long seed) {
        /** All matrices of one block type (Q8_0 or Q4_0). */
        public Spec(Shape shape, GgmlType type, long seed) {
            this(shape, switch (type) {
                case Q8_0 -> FileType.Q8_0;
                case Q4_0 -> FileType.Q4_0;
                default -> throw new IllegalArgumentException("seeded models are Q8_0, Q4_0 or Q4_K_M, not " + type);
            }, seed);
        }

        /** E.g. "small Q8_0". */
        public String label() { return shape.id + " " + type; }
    }

    private SeededLlamaModel() {}

    /**
     * The model file for {@code spec} with {@code vocabulary} under {@code dir}, written first when it is not there
     * (the folder is made as needed).
     */
    public static Path cached(Path dir, Spec spec, SeededVocabulary vocabulary) throws IOException {
        Path file = dir.resolve(String.format(Locale.ROOT, "seeded-%s-%s-seed%d-%s-v%d.gguf",
                spec.shape().gemma3() ? spec.shape().id : "llama-" + spec.shape().id, spec.type().name().toLowerCase(Locale.ROOT), spec.seed(), vocabulary.name(), FORMAT));
        if (Files.isRegularFile(file)) return file;
        Files.createDirectories(dir);
        Path partial = Files.createTempFile(dir, file.getFileName().toString(), ".part");
        try {
            write(spec, vocabulary, partial);
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
        return file;
    }

    /** Writes {@code spec}'s model with {@code vocabulary} to {@code file}. */
    public static void write(Spec spec, SeededVocabulary vocabulary, Path file) throws IOException {
        Shape s = spec.shape();
        int vocab = vocabulary.size(), h = s.hidden, qd = s.queryDim();
        String a = s.architecture;
        GgufWriter g = new GgufWriter().str("general.architecture", a)
                .str("general.name", "offload seeded " + spec.label() + " seed " + spec.seed())
                .u32("general.file_type", spec.type().llamaFileType)
                .u32(a + ".block_count", s.layers).u32(a + ".context_length", s.contextLength)
                .u32(a + ".embedding_length", h).u32(a + ".feed_forward_length", s.ffn)
                .u32(a + ".attention.head_count", s.heads).u32(a + ".attention.head_count_kv", s.kvHeads)
                .u32(a + ".rope.dimension_count", s.headDim()).f32(a + ".rope.freq_base", s.gemma3() ? GEMMA3_ROPE_BASE : ROPE_BASE)
                .f32(a + ".attention.layer_norm_rms_epsilon", s.gemma3() ? GEMMA3_RMS_EPSILON : RMS_EPSILON).u32(a + ".vocab_size", vocab);
        if (s.gemma3()) {
            g.u32(a + ".attention.key_length", s.headDim()).u32(a + ".attention.value_length", s.headDim())
                    .u32(a + ".attention.sliding_window", GEMMA3_WINDOW).u32(a + ".attention.sliding_window_pattern", 6)
                    .f32(a + ".rope.freq_base_swa", 10000f);
        }
        vocabulary.writeTo(g);
        Weights w = new Weights(spec);
        w.matrix(g, "token_embd.weight", h, vocab);
        for (int i = 0; i < s.layers; i++) {
            String p = "blk." + i + ".";
            w.norm(g, p + "attn_norm.weight", h);
            w.matrix(g, p + "attn_q.weight", h, qd);
            w.matrix(g, p + "attn_k.weight", h, s.kvDim());
            w.matrix(g, p + "attn_v.weight", h, s.kvDim());
            if (s.gemma3()) {
                w.norm(g, p + "attn_q_norm.weight", s.headDim());
                w.norm(g, p + "attn_k_norm.weight", s.headDim());
            }
            w.matrix(g, p + "attn_output.weight", qd, h);
            w.norm(g, p + "ffn_norm.weight", h);
            w.matrix(g, p + "ffn_gate.weight", h, s.ffn);
            w.matrix(g, p + "ffn_up.weight", h, s.ffn);
            w.matrix(g, p + "ffn_down.weight", s.ffn, h);
            if (s.gemma3()) {
                w.norm(g, p + "post_attention_norm.weight", h);
                w.norm(g, p + "post_ffw_norm.weight", h);
            }
        }
        w.norm(g, "output_norm.weight", h);
        if (!s.gemma3()) w.matrix(g, "output.weight", h, vocab);   // Gemma 3's is the embedding
        g.write(file);
    }

    /** Bytes of all tensors of {@code spec} with a vocabulary of {@code vocab} tokens (what decode streams, per token, but the embedding). */
    public static long tensorBytes(Spec spec, int vocab) {
        Shape s = spec.shape();
        int h = s.hidden, qd = s.queryDim();
        long bytes = matrixBytes(spec, "token_embd.weight", h, vocab) + (s.gemma3() ? 0 : matrixBytes(spec, "output.weight", h, vocab));
        for (int i = 0; i < s.layers; i++) {
            String p = "blk." + i + ".";
            bytes += matrixBytes(spec, p + "attn_q.weight", h, qd) + matrixBytes(spec, p + "attn_k.weight", h, s.kvDim())
                    + matrixBytes(spec, p + "attn_v.weight", h, s.kvDim()) + matrixBytes(spec, p + "attn_output.weight", qd, h)
                    + matrixBytes(spec, p + "ffn_gate.weight", h, s.ffn) + matrixBytes(spec, p + "ffn_up.weight", h, s.ffn)
                    + matrixBytes(spec, p + "ffn_down.weight", s.ffn, h);
        }
        long norms = 4L * h * (2L * s.layers + 1) + (s.gemma3() ? 4L * s.layers * (2L * s.headDim() + 2L * h) : 0);
        return bytes + norms;
    }

    private static long matrixBytes(Spec spec, String name, int in, int out) {
        return GgmlQuantizer.byteSize(spec.type().matrixType(name, spec.shape().layers, in), (long) in * out);
    }

    /**
     * Each tensor's values from its own generator, seeded by the model seed and the tensor's name, drawn row by row
     * as the producer streams them: the same bytes whatever order the writer asks for tensors in.
     */
    private record Weights(Spec spec) {
        SplittableRandom random(String tensor) {
            return new SplittableRandom(spec.seed() * 0x9E3779B97F4A7C15L ^ tensor.hashCode());
        }

        /** A ggml matrix [ne0 = in, ne1 = out]: {@code out} rows of {@code in} values, in the spec's type for it. */
        void matrix(GgufWriter g, String name, int in, int out) {
            GgmlType type = spec.type().matrixType(name, spec.shape().layers, in);
            g.tensor(name, type, new long[] {in, out}, stream -> {
                SplittableRandom r = random(name);
                float[] row = new float[in];
                ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(GgmlQuantizer.byteSize(type, in)));
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) row[i] = (float) (r.nextGaussian() * STD);
                    writeRow(stream, type, row, bytes);
                }
            });
        }

        /** An RMSNorm gain: 1 plus noise, in F32. */
        void norm(GgufWriter g, String name, int n) {
            g.tensor(name, GgmlType.F32, new long[] {n}, stream -> {
                SplittableRandom r = random(name);
                float[] v = new float[n];
                for (int i = 0; i < n; i++) v[i] = (float) (1 + r.nextGaussian() * STD);
                stream.write(GgmlQuantizer.encode(GgmlType.F32, v));
            });
        }

        private static void writeRow(OutputStream out, GgmlType type, float[] row, ByteBuffer bytes) throws IOException {
            bytes.clear();
            GgmlQuantizer.encode(type, row, 0, row.length, bytes);
            out.write(bytes.array(), 0, bytes.position());
        }
    }
}
