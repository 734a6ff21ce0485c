package dev.offload.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.device.JavaDevice;
import dev.offload.model.gguf.GgufFile;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.PlacementSpec;
import dev.offload.testing.CpuDeviceFixture;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The device decoder (DecoderGraph on OpenCL) against the same graph on the java device (the block-quantized
 * references of every op) and against the float reference, on tiny llama and qwen2 models with seeded weights.
 *
 * <p>Bounds, normwise relative (max|Δ| / max|want|) on the logits: OpenCL vs java graph — the same quantized
 * arithmetic, the int8 block sums exact, only the float sums over blocks and inside norms and attention in another
 * order (~1e-6), which can move a value across an int8 rounding boundary in the next quantization, a step of
 * 1/254 of a block's range: bound 2e-2; measured 7e-8 to 9e-8 on PoCL with the VNNI block kernels, 2026-12-02. Device vs float reference:
 * activations quantized to int8 per block of 32, and F32 files' weights repacked to Q8_0 (what llama.cpp's Q8_0 path
 * computes): bound 0.1, measured 1.9e-2 to 2.9e-2.
 */
class DeviceDecoderTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();
    @TempDir Path dir;

    static final int[] PROMPT = {1, 270, 262, 17, 271, 99, 5, 263};

    /** Opens the file's block weights and runs {@code test} with a decoder on {@code where} (pool: the fixture's CPU and java). */
    private <T> T withDecoder(Path model, String where, Function<DeviceDecoder, T> test) {
        try (GgufFile f = GgufFile.open(model); Arena arena = Arena.ofShared()) {
            GgufDecoder d = GgufDecoder.read(f);
            QuantizedWeights w = QuantizedWeights.load(f, d.config(), arena);
            DevicePool pool = DevicePool.of(CL.device(), JavaDevice.INSTANCE);
            try (DeviceDecoder dec = new DeviceDecoder(d.config(), w, 64, pool, PlacementSpec.parse(where), true, false, null)) {
                return test.apply(dec);
            }
        }
    }

    /**
     * The logits after the prompt and {@code steps} one-token steps, the same tokens on every backend (the prompt's
     * backwards): each backend's own greedy token would part the compared paths at the first near-tie, where int8
     * activations may pick the other of two close logits (the tiny Gemma 3 Q8_0 file does at seed 19).
     */
    private static float[] logitsOfPromptThenSteps(DecoderBackend b, int steps) {
        try (DecoderBackend.Cache c = b.newCache(PROMPT.length + steps + 1)) {
            float[] logits = b.forward(PROMPT, c);
            for (int s = 0; s < steps; s++) logits = b.forward(new int[] {PROMPT[PROMPT.length - 1 - s % PROMPT.length]}, c);
            return logits;
        }
    }

    private static int[] greedy(DecoderBackend b, int tokens) {
        int[] out = new int[tokens];
        try (DecoderBackend.Cache c = b.newCache(PROMPT.length + tokens)) {
            float[] logits = b.forward(PROMPT, c);
            for (int t = 0; t < tokens; t++) {
                out[t] = Sampler.argmax(logits);
                if (t + 1 < tokens) logits = b.forward(new int[] {out[t]}, c);
            }
        }
        return out;
    }

    static double normwise(float[] want, float[] got) {
        double scale = 0, err = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            err = Math.max(err, Math.abs(want[i] - got[i]));
            assertTrue(Float.isFinite(got[i]), "logit " + i + " is " + got[i]);
        }
        return err / scale;
    }

    private Path model(DecoderConfig.Architecture arch, int type, long seed) throws Exception {
        DecoderConfig c = TinyGgufModels.config(arch);
        return TinyGgufModels.write(dir.resolve(arch + "-" + type + ".gguf"), c, TinyGgufModels.randomWeights(c, seed), type, false);
    }

    @ParameterizedTest
    @CsvSource({"LLAMA, 0", "LLAMA, 8", "QWEN2, 0", "QWEN2, 8", "QWEN3, 0", "QWEN3, 2", "QWEN3, 8", "GEMMA, 0", "GEMMA, 8", "GEMMA2, 0", "GEMMA2, 8", "GEMMA3, 0", "GEMMA3, 8"})
    void openClLogitsMatchTheJavaGraphAndStayCloseToTheFloatReference(DecoderConfig.Architecture arch, int type) throws Exception {
        Path m = model(arch, type, 11 + type);
        float[] cl = withDecoder(m, "cl:cpu", d -> logitsOfPromptThenSteps(d, 5));
        float[] java = withDecoder(m, "java", d -> logitsOfPromptThenSteps(d, 5));
        float[] reference;
        try (GgufFile f = GgufFile.open(m)) {
            GgufDecoder d = GgufDecoder.read(f);
            reference = logitsOfPromptThenSteps(new DecoderReference(d.config(), d.floatWeights(f)), 5);
        }
        double graphs = normwise(java, cl), toFloat = normwise(reference, cl);
        System.out.printf("%s type %d: cl vs java graph %.2e, cl vs float reference %.2e%n", arch, type, graphs, toFloat);
        assertTrue(graphs <= 2e-2, "OpenCL vs java graph: " + graphs);
        assertTrue(toFloat <= 0.1, "OpenCL vs float reference: " + toFloat);
    }

    @ParameterizedTest
    @CsvSource({"GEMMA3, 8", "GEMMA2, 0"})
    void aSlidingWindowHoldsAcrossPrefillChunksAndDecodeSteps(DecoderConfig.Architecture arch, int type) throws Exception {
        // The tiny model with room for a prompt of two prefill chunks (256 + 44 tokens, window 5): the second chunk's rows
        // see the window before them in the first one's keys, the decode steps after it theirs.
        DecoderConfig t = TinyGgufModels.config(arch);
        DecoderConfig c = new DecoderConfig(t.architecture(), t.layers(), t.hidden(), t.heads(), t.kvHeads(), t.headDim(), t.ffn(), t.vocab(),
                512, t.ropeBase(), t.ropeStyle(), t.rmsEpsilon(), t.qkvBias(), t.ropeScale(), t.window(), t.softcaps());
        Path m = TinyGgufModels.write(dir.resolve("long-" + arch + ".gguf"), c, TinyGgufModels.randomWeights(c, 5), type, false);
        int[] prompt = new int[DeviceDecoder.PREFILL_CHUNK + 44];
        for (int i = 0; i < prompt.length; i++) prompt[i] = PROMPT[(7 * i + i / 5) % PROMPT.length];
        java.util.function.Function<DecoderBackend, float[]> run = b -> {
            try (DecoderBackend.Cache cache = b.newCache(prompt.length + 4)) {
                float[] logits = b.forward(prompt, cache);
                for (int s = 0; s < 3; s++) logits = b.forward(new int[] {PROMPT[s]}, cache);
                return logits;
            }
        };
        float[] cl, java, reference;
        try (GgufFile f = GgufFile.open(m); Arena arena = Arena.ofShared()) {
            GgufDecoder d = GgufDecoder.read(f);
            QuantizedWeights w = QuantizedWeights.load(f, d.config(), arena);
            DevicePool pool = DevicePool.of(CL.device(), JavaDevice.INSTANCE);
            try (DeviceDecoder onCl = new DeviceDecoder(d.config(), w, 512, pool, PlacementSpec.parse("cl:cpu"), true, false, null);
                 DeviceDecoder onJava = new DeviceDecoder(d.config(), w, 512, pool, PlacementSpec.parse("java"), true, false, null)) {
                cl = run.apply(onCl);
                java = run.apply(onJava);
            }
            reference = run.apply(new DecoderReference(d.config(), d.floatWeights(f)));
        }
        double graphs = normwise(java, cl), toFloat = normwise(reference, cl);
        System.out.printf("%s type %d, %d-token prompt in two chunks then 3 steps: cl vs java graph %.2e, cl vs float reference %.2e%n",
                arch, type, prompt.length, graphs, toFloat);
        assertTrue(graphs <= 2e-2, "OpenCL vs java graph: " + graphs);
        assertTrue(toFloat <= 0.1, "OpenCL vs float reference: " + toFloat);
    }

    @Test
    void greedyContinuationsAreTheSameOnOpenClOnJavaAndSplitAcrossBoth() throws Exception {
        Path m = model(DecoderConfig.Architecture.LLAMA, TinyGgufModels.Q8_0, 5);
        int[] java = withDecoder(m, "java", d -> greedy(d, 32));
        assertArrayEquals(java, withDecoder(m, "cl:cpu", d -> greedy(d, 32)), "OpenCL");
        // Layer 0 on the java device, the rest on OpenCL: each layer's KV cache lives where the layer runs.
        assertArrayEquals(java, withDecoder(m, "layer.0=java,*=cl:cpu", d -> greedy(d, 32)), "split by layers");
    }

    @ParameterizedTest
    @CsvSource({"cl:cpu, 8", "cl:cpu, 2", "cl:cpu, 0", "java, 8"})
    void thePrefillRunsItsLastLayerOnTheLastRowAndGivesThatRowsLogitsBitForBit(String where, int type) throws Exception {
        Path m = model(DecoderConfig.Architecture.LLAMA, type, 21 + type);
        int[] prompt = new int[37];
        for (int i = 0; i < prompt.length; i++) prompt[i] = PROMPT[(5 * i + i / 3) % PROMPT.length];
        withDecoder(m, where, d -> {
            int layers = d.config().layers();
            java.util.Set<String> nodes = new java.util.HashSet<>();
            d.plan(prompt.length).graph().nodes().forEach(n -> nodes.add(n.name()));
            assertTrue(nodes.contains("layer." + (layers - 1) + ".last_token"), "the last layer takes the last row: " + nodes);
            assertTrue(nodes.stream().noneMatch(n -> n.startsWith("layer." + (layers - 2) + ".") && n.endsWith("last_token")),
                    "the layers before the last run on every row");
            float[] last, all;
            try (DecoderBackend.Cache c = d.newCache(48)) { last = d.forward(prompt, c); }
            try (DecoderBackend.Cache c = d.newCache(48)) { all = d.forwardAll(prompt, c); }
            int vocab = last.length;
            assertEquals((long) vocab * prompt.length, all.length);
            for (int i = 0; i < vocab; i++) {
                int want = Float.floatToRawIntBits(all[(prompt.length - 1) * vocab + i]), got = Float.floatToRawIntBits(last[i]);
                if (want != got) {
                    throw new AssertionError(where + " type " + type + ": logit " + i + " is " + last[i] + ", the all-rows run gives "
                            + all[(prompt.length - 1) * vocab + i]);
                }
            }
            return null;
        });
    }

    @Test
    void aLongPromptAtOnceOrTokenByTokenGivesTheSameNextToken() throws Exception {
        // 40 tokens: the prefill's linears take M = 40 rows (the AMX tiles where the device has them: 2 whole row
        // tiles and one of 8 rows), the steps M = 1.
        int[] prompt = new int[40];
        for (int i = 0; i < prompt.length; i++) prompt[i] = PROMPT[(3 * i + i / 8) % PROMPT.length];
        for (int type : new int[] {TinyGgufModels.Q8_0, TinyGgufModels.Q4_0}) {
            Path m = model(DecoderConfig.Architecture.LLAMA, type, 11);
            withDecoder(m, "cl:cpu", d -> {
                float[] atOnce, stepwise = null;
                try (DecoderBackend.Cache c = d.newCache(48)) { atOnce = d.forward(prompt, c); }
                try (DecoderBackend.Cache c = d.newCache(48)) {
                    for (int t : prompt) stepwise = d.forward(new int[] {t}, c);
                }
                assertEquals(Sampler.argmax(atOnce), Sampler.argmax(stepwise), type);
                assertTrue(normwise(atOnce, stepwise) <= 2e-2, type + " prefill vs steps " + normwise(atOnce, stepwise));
                return null;
            });
        }
    }

    @Test
    void aPromptAtOnceOrTokenByTokenGivesTheSameNextToken() throws Exception {
        Path m = model(DecoderConfig.Architecture.QWEN2, TinyGgufModels.Q8_0, 8);
        withDecoder(m, "cl:cpu", d -> {
            float[] atOnce, stepwise;
            try (DecoderBackend.Cache c = d.newCache(16)) { atOnce = d.forward(PROMPT, c); }
            try (DecoderBackend.Cache c = d.newCache(16)) {
                float[] l = null;
                for (int t : PROMPT) l = d.forward(new int[] {t}, c);
                stepwise = l;
                assertEquals(PROMPT.length, c.length());
            }
            assertEquals(Sampler.argmax(atOnce), Sampler.argmax(stepwise));
            assertTrue(normwise(atOnce, stepwise) <= 2e-2, "prefill vs steps " + normwise(atOnce, stepwise));
            return null;
        });
    }

    @Test
    void aFullContextAndAForeignCacheAreRefused() throws Exception {
        Path m = model(DecoderConfig.Architecture.LLAMA, TinyGgufModels.F32, 3);
        withDecoder(m, "cl:cpu", d -> {
            try (DecoderBackend.Cache c = d.newCache(4)) {
                d.forward(new int[] {1, 2, 3}, c);
                var e = assertThrows(IllegalArgumentException.class, () -> d.forward(new int[] {4, 5}, c));
                assertTrue(e.getMessage().contains("context is full"), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> d.newCache(65), "over the decoder's context");
            return null;
        });
    }
}
