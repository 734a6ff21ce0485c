package dev.offload.decoder;

import dev.offload.graph.RotaryEmbedding;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.gguf.GgufFile;
import dev.offload.model.gguf.GgufFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Reading a decoder from GGUF: config, weights in the right layout, quantized weights, and bad files. */
class GgufDecoderTest {
    @TempDir Path dir;

    /** A file's config and float weights, as the reference reads them. */
    record Loaded(DecoderConfig config, DecoderWeights weights) {}

    static Loaded load(Path p) {
        try (GgufFile f = GgufFile.open(p)) {
            GgufDecoder d = GgufDecoder.read(f);
            return new Loaded(d.config(), d.floatWeights(f));
        }
    }

    @ParameterizedTest
    @EnumSource(DecoderConfig.Architecture.class)
    void anF32FileComputesExactlyTheLogitsOfTheWeightsWritten(DecoderConfig.Architecture arch) throws Exception {
        DecoderConfig c = TinyGgufModels.config(arch);
        DecoderWeights w = RandomDecoders.weights(c, 21);
        Loaded loaded = load(TinyGgufModels.write(dir.resolve("m.gguf"), c, w, TinyGgufModels.F32, false));
        assertEquals(c, loaded.config());
        int[] prompt = {1, 260, 265, 42, 270};
        DecoderReference want = new DecoderReference(c, w), got = new DecoderReference(loaded.config(), loaded.weights());
        assertArrayEquals(want.forward(prompt, want.newState(8)), got.forward(prompt, got.newState(8)));
    }

    @Test
    void aTiedModelReadsItsLogitsFromTheTokenEmbedding() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        DecoderWeights w = RandomDecoders.weights(c, 4);
        DecoderWeights tied = new DecoderWeights(w.tokenEmbedding(), w.layers(), w.outputNorm(), GgufDecoder.transpose(w.tokenEmbedding(), c.vocab(), c.hidden()));
        Loaded loaded = load(TinyGgufModels.write(dir.resolve("tied.gguf"), c, tied, TinyGgufModels.F32, true));
        assertArrayEquals(tied.output(), loaded.weights().output());
    }

    @Test
    void q8_0WeightsGiveLogitsCloseToTheFloatModel() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        DecoderWeights w = RandomDecoders.weights(c, 9);
        Loaded f32 = load(TinyGgufModels.write(dir.resolve("f.gguf"), c, w, TinyGgufModels.F32, false));
        Loaded q8 = load(TinyGgufModels.write(dir.resolve("q.gguf"), c, w, TinyGgufModels.Q8_0, false));
        int[] prompt = {1, 270, 262, 17, 271, 99, 5};
        DecoderReference a = new DecoderReference(c, f32.weights()), b = new DecoderReference(c, q8.weights());
        float[] x = a.forward(prompt, a.newState(16)), y = b.forward(prompt, b.newState(16));
        double err = 0, norm = 0;
        for (int i = 0; i < x.length; i++) { err += (x[i] - y[i]) * (x[i] - y[i]); norm += x[i] * x[i]; }
        // Q8_0 rounds each weight to a step of max|w|/127 of its 32-block (about 0.02 sigma for Gaussian weights): a
        // relative rms error near 0.0057, an NMSE near 3.3e-5 per matrix. The logits pass through 16 quantized
        // matrices (7 per layer, the embedding and the output), whose errors add: about 5e-4; measured 3.0e-4.
        double nmse = err / norm;
        System.out.printf("Q8_0 vs F32 logits: NMSE %.3g%n", nmse);
        assertTrue(nmse < 2e-3 && nmse > 0, "NMSE " + nmse);
    }

    @Test
    void badFilesAreOneLineNamingTheFileAndTheProblem() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        Path good = TinyGgufModels.write(dir.resolve("good.gguf"), c, RandomDecoders.weights(c, 1), TinyGgufModels.F32, false);
        byte[] bytes = Files.readAllBytes(good);
        // An architecture offload does not know: same length, so the file stays well formed.
        Path falcon = Files.write(dir.resolve("falcon.gguf"), replace(bytes, "llama.", "falco."));
        var e = assertThrows(GgufFormatException.class, () -> load(Files.write(dir.resolve("gemma.gguf"), replace(replace(bytes, "\u0005\0\0\0\0\0\0\0llama", "\u0005\0\0\0\0\0\0\0gemmx"), "llama.", "gemmx."))));
        assertTrue(e.getMessage().contains("gemma.gguf") && e.getMessage().contains("architecture 'gemmx'"), e.getMessage());
        var missing = assertThrows(GgufFormatException.class, () -> load(falcon));
        assertTrue(missing.getMessage().contains("falcon.gguf") && missing.getMessage().contains("llama.block_count"), missing.getMessage());
        var noTensor = assertThrows(GgufFormatException.class, () -> load(Files.write(dir.resolve("t.gguf"), replace(bytes, "blk.1.ffn_up.weight", "blk.1.ffn_XX.weight"))));
        assertTrue(noTensor.getMessage().contains("'blk.1.ffn_up.weight' is missing"), noTensor.getMessage());
    }

    @Test
    void aQwen3FileNeedsItsHeadNormsAndValuesAsWideAsKeys() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.QWEN3);
        assertTrue(c.qkNorm() && c.queryDim() != c.hidden(), "the test model's heads are wider than hidden / heads");
        byte[] bytes = Files.readAllBytes(TinyGgufModels.write(dir.resolve("q3.gguf"), c, RandomDecoders.weights(c, 2), TinyGgufModels.F32, false));
        var noNorm = assertThrows(GgufFormatException.class, () -> load(Files.write(dir.resolve("nonorm.gguf"), replace(bytes, "blk.0.attn_k_norm", "blk.0.attn_k_XXXX"))));
        assertTrue(noNorm.getMessage().contains("nonorm.gguf") && noNorm.getMessage().contains("'blk.0.attn_k_norm.weight' is missing"), noNorm.getMessage());
        // value_length's u32 value 32 (after its key) made 64: values wider than keys.
        byte[] wide = replace(bytes, "value_length\u0004\0\0\0 \0\0\0", "value_length\u0004\0\0\0@\0\0\0");
        var e = assertThrows(GgufFormatException.class, () -> load(Files.write(dir.resolve("wide.gguf"), wide)));
        assertTrue(e.getMessage().contains("wide.gguf") && e.getMessage().contains("qwen3.attention.value_length 64 != key_length 32"), e.getMessage());
        // 256 heads of 2^24 (each size within the reader's 1..2^24): Q's row would be 2^32 wide; one line, nothing wrapped.
        byte[] huge = replace(replace(replace(bytes, "key_length\u0004\0\0\0 \0\0\0", "key_length\u0004\0\0\0\0\0\0\u0001"),
                "value_length\u0004\0\0\0 \0\0\0", "value_length\u0004\0\0\0\0\0\0\u0001"),
                "head_count\u0004\0\0\0\u0004\0\0\0", "head_count\u0004\0\0\0\0\u0001\0\0");
        var h = assertThrows(GgufFormatException.class, () -> load(Files.write(dir.resolve("huge.gguf"), huge)));
        assertTrue(h.getMessage().contains("huge.gguf") && h.getMessage().contains("256 heads of 16777216 values do not fit a tensor row"), h.getMessage());
    }

    @Test
    void aGemma3FilesSlidingWindowPatternIsReadAsANumberOrAFlagPerLayerAndWhatItCannotRunIsOneLine() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.GEMMA3);
        assertEquals(List.of(true, false), c.window().local(), "pattern 2: layer 0 local, layer 1 global");
        assertEquals(List.of(true, true, true, true, true, false, true), DecoderConfig.SlidingWindow.pattern(7, 6), "Gemma 3's default");
        assertEquals(5, c.attentionWindow(0));
        assertEquals(0, c.attentionWindow(1));
        assertEquals(10000f, c.ropeBase(0));
        assertEquals(1e6f, c.ropeBase(1));
        assertEquals(1f, c.ropeScale(0));
        assertEquals(0.5f, c.ropeScale(1));
        // A flag per layer (an array of bools), here the other way round: layer 0 global, layer 1 local.
        DecoderConfig flags = new DecoderConfig(c.architecture(), c.layers(), c.hidden(), c.heads(), c.kvHeads(), c.headDim(), c.ffn(), c.vocab(),
                c.contextLength(), c.ropeBase(), c.ropeStyle(), c.rmsEpsilon(), c.qkvBias(), c.ropeScale(),
                new DecoderConfig.SlidingWindow(7, List.of(false, true), 20000f));
        DecoderWeights w = RandomDecoders.weights(c, 3);
        assertEquals(flags, load(TinyGgufModels.write(dir.resolve("flags.gguf"), flags, w, TinyGgufModels.F32, false)).config());
        // Capped logits are read (llama.cpp's gemma3 reads final_logit_softcapping too); capped attention is Gemma 2's alone.
        assertEquals(new DecoderConfig.SoftCaps(0f, 30f), load(TinyGgufModels.write(dir.resolve("logits.gguf"), c, w, TinyGgufModels.F32, false, 2, null,
                g -> g.f32("gemma3.final_logit_softcapping", 30f))).config().softcaps());
        var cap = assertThrows(GgufFormatException.class, () -> load(TinyGgufModels.write(dir.resolve("cap.gguf"), c, w, TinyGgufModels.F32, false, 2, null,
                g -> g.f32("gemma3.attn_logit_softcapping", 50f))));
        assertTrue(cap.getMessage().contains("cap.gguf") && cap.getMessage().contains("gemma3 with soft-capping (attn_logit_softcapping 50.0) is not supported"),
                cap.getMessage());
        byte[] bytes = Files.readAllBytes(TinyGgufModels.write(dir.resolve("g3.gguf"), c, w, TinyGgufModels.F32, false));
        // The pattern's u32 2 (after its key) made 3: more than the 2 layers.
        byte[] wide = replace(bytes, "window_pattern\u0004\0\0\0\u0002\0\0\0", "window_pattern\u0004\0\0\0\u0003\0\0\0");
        var e = assertThrows(GgufFormatException.class, () -> load(Files.write(dir.resolve("wide.gguf"), wide)));
        assertTrue(e.getMessage().contains("wide.gguf") && e.getMessage().contains("gemma3.attention.sliding_window_pattern = 3 is outside 0..2"), e.getMessage());
        var yarn = assertThrows(GgufFormatException.class, () -> load(Files.write(dir.resolve("yarn.gguf"), replace(bytes, "linear", "yarn!!"))));
        assertTrue(yarn.getMessage().contains("gemma3.rope.scaling.type 'yarn!!' is not supported yet (none or linear)"), yarn.getMessage());
    }

    @Test
    void badSlidingWindowScalingAndSoftCapValuesAreOneLineNamingTheFileAndTheKey() throws Exception {
        DecoderConfig g3 = TinyGgufModels.config(DecoderConfig.Architecture.GEMMA3), g2 = TinyGgufModels.config(DecoderConfig.Architecture.GEMMA2);
        DecoderConfig llama = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        byte[] gemma3 = Files.readAllBytes(TinyGgufModels.write(dir.resolve("g3.gguf"), g3, RandomDecoders.weights(g3, 1), TinyGgufModels.F32, false));
        byte[] gemma2 = Files.readAllBytes(TinyGgufModels.write(dir.resolve("g2.gguf"), g2, RandomDecoders.weights(g2, 1), TinyGgufModels.F32, false));
        // A window of 2^25 keys (the u32 5 after its key made 0x02000000).
        refused(replace(gemma3, "sliding_window\u0004\0\0\0\u0005\0\0\0", "sliding_window\u0004\0\0\0\0\0\0\u0002"), "huge-window.gguf",
                "gemma3.attention.sliding_window = 33554432 is outside 1..16777216");
        // rope.scaling.factor 2.0 made NaN, then -1.
        refused(replace(gemma3, "factor\u0006\0\0\0\0\0\0@", "factor\u0006\0\0\0\0\0\u00c0\u007f"), "nan-factor.gguf",
                "gemma3.rope.scaling.factor NaN is outside 1..65536");
        refused(replace(gemma3, "factor\u0006\0\0\0\0\0\0@", "factor\u0006\0\0\0\0\0\u0080\u00bf"), "negative-factor.gguf",
                "gemma3.rope.scaling.factor -1.0 is outside 1..65536");
        // The attention cap 0.8 (cd cc 4c 3f) made -1 and NaN.
        refused(replace(gemma2, "softcapping\u0006\0\0\0\u00cd\u00ccL?", "softcapping\u0006\0\0\0\0\0\u0080\u00bf"), "negative-cap.gguf",
                "gemma2.attn_logit_softcapping -1.0 is outside 0..1e6");
        refused(replace(gemma2, "softcapping\u0006\0\0\0\u00cd\u00ccL?", "softcapping\u0006\0\0\0\0\0\u00c0\u007f"), "nan-cap.gguf",
                "gemma2.attn_logit_softcapping NaN is outside 0..1e6");
        // A pattern of the wrong kind or length (gemma2 writes none of its own: its default 2).
        DecoderWeights w2 = RandomDecoders.weights(g2, 1);
        var ints = assertThrows(GgufFormatException.class, () -> load(TinyGgufModels.write(dir.resolve("int-pattern.gguf"), g2, w2, TinyGgufModels.F32, false, 2, null,
                g -> g.ints("gemma2.attention.sliding_window_pattern", 1, 0))));
        assertTrue(ints.getMessage().contains("int-pattern.gguf") && ints.getMessage().contains("sliding_window_pattern must be an array of bools or a number"), ints.getMessage());
        var three = assertThrows(GgufFormatException.class, () -> load(TinyGgufModels.write(dir.resolve("three.gguf"), g2, w2, TinyGgufModels.F32, false, 2, null,
                g -> g.raw("gemma2.attention.sliding_window_pattern", b -> b.u32(9).u32(7).u64(3).u8(1).u8(0).u8(1)))));
        assertTrue(three.getMessage().contains("three.gguf") && three.getMessage().contains("sliding_window_pattern has 3 entries for 2 layers"), three.getMessage());
        // A window on an architecture without one.
        var lw = assertThrows(GgufFormatException.class, () -> load(TinyGgufModels.write(dir.resolve("llama-window.gguf"), llama, RandomDecoders.weights(llama, 1),
                TinyGgufModels.F32, false, 2, null, g -> g.u32("llama.attention.sliding_window", 4))));
        assertTrue(lw.getMessage().contains("llama-window.gguf") && lw.getMessage().contains("llama.attention.sliding_window is not supported for llama"), lw.getMessage());
    }

    private void refused(byte[] bytes, String name, String problem) throws Exception {
        Path p = Files.write(dir.resolve(name), bytes);
        var e = assertThrows(GgufFormatException.class, () -> load(p));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains(problem), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void aModelTooBigForTheHeapIsRefusedUpFrontWithWhatItNeeds() {
        // Llama 3.2 1B's shapes: 0.97 G layer values + 2 x 0.26 G for the embedding and the output copy, plus the
        // largest matrix twice in transit: 2.02 G floats, 7.5 GiB.
        DecoderConfig llama1b = new DecoderConfig(DecoderConfig.Architecture.LLAMA, 16, 2048, 32, 8, 64, 8192, 128256, 131072,
                500000f, RotaryEmbedding.Style.ADJACENT_PAIRS, 1e-5f, false);
        double gib = GgufDecoder.floatWeightBytes(llama1b) / (double) (1L << 30);
        assertTrue(gib > 7.4 && gib < 7.7, "float bytes " + gib + " GiB");
        var e = assertThrows(IllegalArgumentException.class, () -> GgufDecoder.checkHeap(Path.of("big.gguf"), llama1b, 4L << 30));
        assertTrue(e.getMessage().startsWith("big.gguf: ") && e.getMessage().contains("4.0 GiB are free"), e.getMessage());
        GgufDecoder.checkHeap(Path.of("big.gguf"), llama1b, 8L << 30);   // enough: no complaint
    }

    private static byte[] replace(byte[] data, String from, String to) {
        byte[] f = from.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), t = to.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] out = data.clone();
        int n = 0;
        for (int i = 0; i + f.length <= out.length; i++) {
            if (java.util.Arrays.equals(out, i, i + f.length, f, 0, f.length)) { System.arraycopy(t, 0, out, i, t.length); n++; }
        }
        if (n == 0) throw new AssertionError("no " + from + " in the file");
        return out;
    }

}
