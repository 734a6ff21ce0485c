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
 * Llama-architecture GGUF models with seeded weights, made here because no registry reachable from this machine
 * ships trained decoder weights: the same bytes for the same shape, type and seed, on any machine. Benchmarks run
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
        LLAMA_3_2_1B("1b", 16, 2048, 8192, 32, 8, 131072);

        public final String id;
        public final int layers, hidden, ffn, heads, kvHeads, contextLength;

        Shape(String id, int layers, int hidden, int ffn, int heads, int kvHeads, int contextLength) {
            this.id = id;
            this.layers = layers;
            this.hidden = hidden;
            this.ffn = ffn;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.contextLength = contextLength;
        }

        public int headDim() { return hidden / heads; }

        public int kvDim() { return kvHeads * headDim(); }

        /** The shape called {@code id} (tiny, small, 1b). */
        public static Shape named(String id) {
            for (Shape s : values()) if (s.id.equals(id)) return s;
            throw new IllegalArgumentException("no seeded model shape '" + id + "' (shapes: tiny, small, 1b)");
        }
    }

    /** Llama 3's rotary base. */
    public static final float ROPE_BASE = 500000f;

    public static final float RMS_EPSILON = 1e-5f;

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
        Path file = dir.resolve(String.format(Locale.ROOT, "seeded-llama-%s-%s-seed%d-%s-v%d.gguf",
                spec.shape().id, spec.type().name().toLowerCase(Locale.ROOT), spec.seed(), vocabulary.name(), FORMAT));
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
        int vocab = vocabulary.size(), h = s.hidden;
        GgufWriter g = new GgufWriter().str("general.architecture", "llama")
                .str("general.name", "offload seeded " + spec.label() + " seed " + spec.seed())
                .u32("general.file_type", spec.type().llamaFileType)
                .u32("llama.block_count", s.layers).u32("llama.context_length", s.contextLength)
                .u32("llama.embedding_length", h).u32("llama.feed_forward_length", s.ffn)
                .u32("llama.attention.head_count", s.heads).u32("llama.attention.head_count_kv", s.kvHeads)
                .u32("llama.rope.dimension_count", s.headDim()).f32("llama.rope.freq_base", ROPE_BASE)
                .f32("llama.attention.layer_norm_rms_epsilon", RMS_EPSILON).u32("llama.vocab_size", vocab);
        vocabulary.writeTo(g);
        Weights w = new Weights(spec);
        w.matrix(g, "token_embd.weight", h, vocab);
        for (int i = 0; i < s.layers; i++) {
            String p = "blk." + i + ".";
            w.norm(g, p + "attn_norm.weight", h);
            w.matrix(g, p + "attn_q.weight", h, h);
            w.matrix(g, p + "attn_k.weight", h, s.kvDim());
            w.matrix(g, p + "attn_v.weight", h, s.kvDim());
            w.matrix(g, p + "attn_output.weight", h, h);
            w.norm(g, p + "ffn_norm.weight", h);
            w.matrix(g, p + "ffn_gate.weight", h, s.ffn);
            w.matrix(g, p + "ffn_up.weight", h, s.ffn);
            w.matrix(g, p + "ffn_down.weight", s.ffn, h);
        }
        w.norm(g, "output_norm.weight", h);
        w.matrix(g, "output.weight", h, vocab);
        g.write(file);
    }

    /** Bytes of all tensors of {@code spec} with a vocabulary of {@code vocab} tokens (what decode streams, per token, but the embedding). */
    public static long tensorBytes(Spec spec, int vocab) {
        Shape s = spec.shape();
        int h = s.hidden;
        long bytes = matrixBytes(spec, "token_embd.weight", h, vocab) + matrixBytes(spec, "output.weight", h, vocab);
        for (int i = 0; i < s.layers; i++) {
            String p = "blk." + i + ".";
            bytes += matrixBytes(spec, p + "attn_q.weight", h, h) + matrixBytes(spec, p + "attn_k.weight", h, s.kvDim())
                    + matrixBytes(spec, p + "attn_v.weight", h, s.kvDim()) + matrixBytes(spec, p + "attn_output.weight", h, h)
                    + matrixBytes(spec, p + "ffn_gate.weight", h, s.ffn) + matrixBytes(spec, p + "ffn_up.weight", h, s.ffn)
                    + matrixBytes(spec, p + "ffn_down.weight", s.ffn, h);
        }
        long norms = 4L * h * (2L * s.layers + 1);
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
