package dev.offload.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.RotaryEmbedding;
import dev.offload.model.gguf.GgmlBlocks;
import dev.offload.model.gguf.GgmlType;
import dev.offload.model.gguf.GgufFile;
import dev.offload.peer.NodeLlamaCpp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Seeded llama models: shapes as named, the same bytes for the same seed, cached whole, and logits worth comparing. */
class SeededLlamaModelTest {
    @TempDir Path dir;

    static final SeededVocabulary SYNTHETIC = SeededVocabulary.synthetic(SeededVocabulary.LLAMA_3_SIZE);

    static String sha256(Path f) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0"})
    void tinyLoadsWithItsShapeAndGivesFiniteVariedLogits(GgmlType type) throws Exception {
        SeededLlamaModel.Spec spec = new SeededLlamaModel.Spec(SeededLlamaModel.Shape.TINY, type, 3);
        Path f = SeededLlamaModel.cached(dir, spec, SYNTHETIC);
        GgufDecoder d;
        DecoderWeights w;
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(SeededLlamaModel.tensorBytes(spec, SYNTHETIC.size()), g.tensorBytes());
            assertEquals(type, g.tensor("blk.1.ffn_down.weight").type());
            assertEquals(GgmlType.F32, g.tensor("output_norm.weight").type());
            assertTrue(g.hasTensor("output.weight"), "untied output");
            float[] q = GgmlBlocks.decode(g.tensor("blk.0.attn_q.weight"));
            double sum = 0, sq = 0;
            for (float v : q) { sum += v; sq += (double) v * v; }
            double mean = sum / q.length, std = Math.sqrt(sq / q.length - mean * mean);
            assertEquals(SeededLlamaModel.STD, std, 0.05 * SeededLlamaModel.STD, "weights std");
            float[] norm = GgmlBlocks.decode(g.tensor("blk.0.attn_norm.weight"));
            for (float v : norm) assertTrue(Math.abs(v - 1) < 0.1, "norm gain near 1: " + v);
            d = GgufDecoder.read(g);
            w = d.floatWeights(g);
        }
        DecoderConfig c = d.config();
        assertEquals(new DecoderConfig(DecoderConfig.Architecture.LLAMA, 2, 64, 4, 2, 16, 192, SeededVocabulary.LLAMA_3_SIZE, 2048,
                500000f, RotaryEmbedding.Style.ADJACENT_PAIRS, 1e-5f, false), c);
        DecoderReference ref = new DecoderReference(c, w);
        DecoderReference.State s = ref.newState(32);
        int[] prompt = d.tokenizer().encode("the a to and of the", true);
        float[] logits = ref.forward(prompt, s);
        double sum = 0, sq = 0;
        for (float v : logits) {
            assertTrue(Float.isFinite(v));
            sum += v;
            sq += (double) v * v;
        }
        double std = Math.sqrt(sq / logits.length - (sum / logits.length) * (sum / logits.length));
        // Unit-RMS final hidden state times weights of std 0.02 over 64 inputs: logits of std ~0.16.
        assertTrue(std > 0.08 && std < 0.4, "logit std " + std);
        float[] next = ref.forward(new int[] {Sampler.argmax(logits)}, s);
        assertFalse(java.util.Arrays.equals(logits, next), "the next position's logits depend on the new token");
    }

    @Test
    void q4KMixIsQ4KWithQ6KWhereLlamaCppGivesMoreBitsAndLoadsInPlace() throws Exception {
        SeededLlamaModel.Spec spec = new SeededLlamaModel.Spec(SeededLlamaModel.Shape.SMALL, SeededLlamaModel.FileType.Q4_K_M, 4);
        SeededVocabulary v = SeededVocabulary.synthetic(512);
        Path f = SeededLlamaModel.cached(dir, spec, v);
        assertEquals("seeded-llama-small-q4_k_m-seed4-synthetic-v" + SeededLlamaModel.FORMAT + ".gguf", f.getFileName().toString());
        try (GgufFile g = GgufFile.open(f); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            assertEquals(SeededLlamaModel.tensorBytes(spec, v.size()), g.tensorBytes());
            assertEquals(15, g.metadata().integer("general.file_type"), "llama.cpp's MOSTLY_Q4_K_M");
            // 4 layers: llama.cpp's "more bits" layers are the last eighth (3) and every third from 0 (2).
            for (int i = 0; i < 4; i++) {
                GgmlType more = i >= 2 ? GgmlType.Q6_K : GgmlType.Q4_K;
                assertEquals(more, g.tensor("blk." + i + ".attn_v.weight").type(), "layer " + i);
                assertEquals(more, g.tensor("blk." + i + ".ffn_down.weight").type(), "layer " + i);
                for (String t : List.of("attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up")) {
                    assertEquals(GgmlType.Q4_K, g.tensor("blk." + i + "." + t + ".weight").type(), t);
                }
            }
            assertEquals(GgmlType.Q6_K, g.tensor("output.weight").type());
            assertEquals(GgmlType.Q4_K, g.tensor("token_embd.weight").type());
            // Resident: every matrix a slice of the mapped file, so the weights take the file's tensor bytes.
            GgufDecoder d = GgufDecoder.read(g);
            QuantizedWeights w = QuantizedWeights.load(g, d.config(), arena);
            assertEquals(g.tensor("blk.3.ffn_down.weight").data().address(), w.layers().get(3).down().blocks().address(), "no copy");
            assertEquals(g.tensor("output.weight").data().address(), w.output().blocks().address(), "no copy");
            long norms = 4L * 512 * (2 * 4 + 1);
            assertEquals(g.tensorBytes(), w.matrixBytes() + g.tensor("token_embd.weight").info().byteSize() + norms,
                    "resident matrices + the embedding (read in place) + norms = the file's tensor bytes (1.00x)");
            // One launch for the projections of one format: where V is Q6_K, Q and K (Q4_K) still share one.
            RotaryEmbedding rope = DecoderReference.rope(d.config(), 8);
            Graph graph = DecoderGraph.build(d.config(), w, rope, rope.withHeads(d.config().kvHeads()), 1, false);
            boolean mixed = false;
            for (int i = 0; i < 4; i++) {
                String p = "layer." + i + ".attn.";
                boolean v6 = g.tensor("blk." + i + ".attn_v.weight").type() == GgmlType.Q6_K;
                mixed |= v6;
                List<String> projections = graph.nodes().stream().map(Node::name)
                        .filter(n -> n.startsWith(p) && n.substring(p.length()).matches("[qkv_]+")).toList();
                assertEquals(v6 ? List.of(p + "q_k", p + "v") : List.of(p + "q_k_v"), projections, "layer " + i);
            }
            assertTrue(mixed, "some layer has its V in Q6_K");
        }
        // The tiny shape's rows (64, 192) are not whole super-blocks: llama.cpp's fallbacks, Q4_0 and Q8_0.
        SeededLlamaModel.Spec tiny = new SeededLlamaModel.Spec(SeededLlamaModel.Shape.TINY, SeededLlamaModel.FileType.Q4_K_M, 4);
        assertEquals(GgmlType.Q4_0, tiny.type().matrixType("blk.0.attn_q.weight", 2, 64));
        assertEquals(GgmlType.Q8_0, tiny.type().matrixType("blk.1.ffn_down.weight", 2, 192));
        // 16 layers (1b): the first and last eighth (0, 1, 14, 15) and 4, 7, 10, 13.
        for (int i = 0; i < 16; i++) {
            boolean more = i < 2 || i >= 14 || i % 3 == 1;
            assertEquals(more ? GgmlType.Q6_K : GgmlType.Q4_K, tiny.type().matrixType("blk." + i + ".ffn_down.weight", 16, 8192), "1b layer " + i);
        }
    }

    @Test
    void theSameSpecGivesTheSameBytesAndTheCacheKeepsWholeFilesOnly() throws Exception {
        SeededLlamaModel.Spec spec = new SeededLlamaModel.Spec(SeededLlamaModel.Shape.TINY, GgmlType.Q4_0, 9);
        SeededVocabulary small = SeededVocabulary.synthetic(512);
        Path a = dir.resolve("a.gguf"), b = dir.resolve("b.gguf"), c = dir.resolve("c.gguf");
        SeededLlamaModel.write(spec, small, a);
        SeededLlamaModel.write(spec, small, b);
        SeededLlamaModel.write(new SeededLlamaModel.Spec(spec.shape(), spec.type(), 10), small, c);
        assertEquals(sha256(a), sha256(b), "deterministic");
        assertNotEquals(sha256(a), sha256(c), "the seed matters");

        Path cache = dir.resolve("cache");
        Path cached = SeededLlamaModel.cached(cache, spec, small);
        assertEquals("seeded-llama-tiny-q4_0-seed9-synthetic-v" + SeededLlamaModel.FORMAT + ".gguf", cached.getFileName().toString());
        assertEquals(sha256(a), sha256(cached));
        FileTime written = Files.getLastModifiedTime(cached);
        Files.setLastModifiedTime(cached, FileTime.fromMillis(written.toMillis() - 60_000));
        assertEquals(cached, SeededLlamaModel.cached(cache, spec, small));
        assertEquals(written.toMillis() - 60_000, Files.getLastModifiedTime(cached).toMillis(), "a cached file is not rewritten");
        try (var listing = Files.list(cache)) {
            assertEquals(List.of(cached), listing.toList(), "no partial file left behind");
        }
    }

    @Test
    void llama32OneBShapesGiveTheFileSizesOfTheIssue() {
        // 1,498,415,104 matrix values (untied output) and 33 norms of 2048: 1.59 GB in Q8_0, 0.84 GB in Q4_0.
        assertEquals(1_592_336_384L, SeededLlamaModel.tensorBytes(new SeededLlamaModel.Spec(SeededLlamaModel.Shape.LLAMA_3_2_1B, GgmlType.Q8_0, 1), 128256));
        assertEquals(843_128_832L, SeededLlamaModel.tensorBytes(new SeededLlamaModel.Spec(SeededLlamaModel.Shape.LLAMA_3_2_1B, GgmlType.Q4_0, 1), 128256));
        SeededLlamaModel.Shape b = SeededLlamaModel.Shape.named("1b");
        assertEquals(64, b.headDim());
        assertEquals(512, b.kvDim());
        assertThrows(IllegalArgumentException.class, () -> SeededLlamaModel.Shape.named("7b"));
        assertThrows(IllegalArgumentException.class, () -> new SeededLlamaModel.Spec(b, GgmlType.F32, 1));
    }

    @Test
    void gemma3OneBShapesGiveTheTensorBytesOfTheFilesTheBenchWrote() {
        // What `bench --sections decode --decode-models gemma3_1b-q4_0,gemma3_1b-q8_0` read back from the files it wrote
        // (GgufFile.tensorBytes, 2026-12-04): tied output, Q/K norms of 256 and two more norms a layer.
        SeededLlamaModel.Shape g = SeededLlamaModel.Shape.named("gemma3_1b");
        assertEquals("gemma3", g.architecture);
        assertEquals(256, g.headDim());
        assertEquals(1024, g.queryDim());
        assertEquals(256, g.kvDim());
        assertEquals(476_137_984L, SeededLlamaModel.tensorBytes(new SeededLlamaModel.Spec(g, GgmlType.Q4_0, 1), 128256));
        assertEquals(898_894_336L, SeededLlamaModel.tensorBytes(new SeededLlamaModel.Spec(g, GgmlType.Q8_0, 1), 128256));
    }

    @Test
    void theRealLlama3TokenizerIsCopiedWhenLlamaCppsVocabularyIsThere() throws IOException {
        Path vocab = NodeLlamaCpp.vocabulary("llama-bpe").orElse(null);
        assumeTrue(vocab != null, NodeLlamaCpp.HOW_TO_GET);
        SeededVocabulary v = SeededVocabulary.llama3(vocab);
        assertEquals("llama-bpe", v.name());
        assertEquals(SeededVocabulary.LLAMA_3_SIZE, v.size());
        assertFalse(v.keys().containsKey("general.architecture"), "only tokenizer keys");
        Path f = SeededLlamaModel.cached(dir, new SeededLlamaModel.Spec(SeededLlamaModel.Shape.TINY, GgmlType.Q8_0, 1), v);
        try (GgufFile g = GgufFile.open(f)) {
            var tok = GgufDecoder.read(g).tokenizer();
            // Llama 3's ids, as llama.cpp's tokenizer tests give them: BOS, "Hello", " world".
            assertArrayEquals(new int[] {128000, 9906, 1917}, tok.encode("Hello world", true));
        }
    }
}
