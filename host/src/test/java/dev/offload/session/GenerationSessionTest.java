package dev.offload.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.decoder.DecoderConfig;
import dev.offload.decoder.DecoderReference;
import dev.offload.decoder.DecoderWeights;
import dev.offload.decoder.SamplingParams;
import dev.offload.decoder.TinyGgufModels;
import dev.offload.model.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import dev.offload.testing.CpuDeviceFixture;
import org.junit.jupiter.api.io.TempDir;

/** Generation as a library user sees it: streamed text, the reference's greedy tokens, seeds, and why it stopped. */
class GenerationSessionTest {
    /** The float reference: these tests check the session's own logic against its argmax tokens. */
    static final GenerationOptions REFERENCE = GenerationOptions.defaults().withPlacement("java");

    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    @TempDir Path dir;

    @Test
    void onAnOpenClDeviceItStreamsTheDeviceDecodersGreedyTokensAndFreesEachSequencesCache() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.QWEN2);
        Path m = TinyGgufModels.write(dir.resolve("d.gguf"), c, TinyGgufModels.randomWeights(c, 12), TinyGgufModels.Q8_0, false);
        GenerationOptions onCl = GenerationOptions.defaults().withDevices(CL.pool()).withPlacement("cl:cpu").withContext(64).withProfiling(true);
        try (GenerationSession s = GenerationSession.open(m, onCl)) {
            assertTrue(s.backend() instanceof dev.offload.decoder.DeviceDecoder, s.backend().device());
            StringBuilder streamed = new StringBuilder();
            GenerationSession.Result r = s.generate("the a to", true, 16, 0, SamplingParams.greedy(), streamed::append);
            assertEquals(16, r.generatedTokens());
            assertEquals(r.text(), streamed.toString());
            // The same tokens by hand through the backend: argmax step by step.
            int[] prompt = s.tokenizer().encode("the a to", true);
            try (dev.offload.decoder.DecoderBackend.Cache cache = s.backend().newCache(64)) {
                float[] logits = s.backend().forward(prompt, cache);
                for (int i = 0; i < 16; i++) {
                    assertEquals(argmax(logits), r.tokens()[i], "token " + i);
                    logits = s.backend().forward(new int[] {r.tokens()[i]}, cache);
                }
            }
            var profile = s.profile().orElseThrow();
            assertTrue(profile.decode().orElseThrow().steps() >= 15, "decode steps are profiled");
            GenerationSession.Result full = s.generate("the", true, 100, 8, SamplingParams.greedy(), null);
            assertEquals(GenerationSession.Stop.CONTEXT_FULL, full.stop());
            GenerationSession.Result clamped = s.generate("the", true, 100, 65, SamplingParams.greedy(), null);
            assertEquals(64, clamped.promptTokens() + clamped.generatedTokens(), "a context over the session's is the session's");
        }
    }

    @Test
    void greedyTextIsTheReferencesArgmaxTokensStreamedAsWholeCharacters() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        DecoderWeights w = TinyGgufModels.randomWeights(c, 33);
        try (GenerationSession s = GenerationSession.open(TinyGgufModels.write(dir.resolve("m.gguf"), c, w, TinyGgufModels.F32, false), REFERENCE)) {
            StringBuilder streamed = new StringBuilder();
            GenerationSession.Result r = s.generate("the a to", true, 12, 64, SamplingParams.greedy(), streamed::append);
            assertEquals(GenerationSession.Stop.MAX_TOKENS, r.stop());
            assertEquals(12, r.generatedTokens());
            assertEquals(r.text(), streamed.toString());

            // The same tokens by hand: argmax of the reference's logits, step by step.
            TextTokenizer tok = s.tokenizer();
            int[] prompt = tok.encode("the a to", true);
            assertEquals(prompt.length, r.promptTokens());
            DecoderReference ref = new DecoderReference(c, w);
            DecoderReference.State st = ref.newState(64);
            float[] logits = ref.forward(prompt, st);
            int[] want = new int[12];
            for (int i = 0; i < 12; i++) {
                want[i] = argmax(logits);
                logits = ref.forward(new int[] {want[i]}, st);
            }
            assertArrayEquals(want, r.tokens());
            assertEquals(tok.decode(want), r.text());
            assertArrayEquals(r.tokens(), s.generate("the a to", true, 12, 64, SamplingParams.greedy(), null).tokens(), "greedy is deterministic");
        }
    }

    @Test
    void theCallbackCanStopAGenerationAndTheResultSaysHowFarItGot() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        try (GenerationSession s = GenerationSession.open(TinyGgufModels.write(dir.resolve("x.gguf"), c, TinyGgufModels.randomWeights(c, 33),
                TinyGgufModels.F32, false), REFERENCE)) {
            GenerationSession.Result whole = s.generate("the a to", true, 12, 64, SamplingParams.greedy(), null);
            List<String> pieces = new java.util.ArrayList<>();
            GenerationSession.Result cut = s.generate("the a to", true, 12, 64, SamplingParams.greedy(), piece -> {
                pieces.add(piece);
                if (pieces.size() == 3) throw new java.util.concurrent.CancellationException("enough");
            });
            assertEquals(GenerationSession.Stop.CANCELLED, cut.stop());
            assertEquals(String.join("", pieces), cut.text(), "the text up to and including the piece that stopped it");
            assertTrue(cut.generatedTokens() >= 3 && cut.generatedTokens() < 12, cut.generatedTokens() + " tokens");
            assertArrayEquals(Arrays.copyOf(whole.tokens(), cut.generatedTokens()), cut.tokens(), "the same tokens as far as it got");
        }
    }

    @Test
    void aSeedMakesSamplingReproducible() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.QWEN2);
        try (GenerationSession s = GenerationSession.open(TinyGgufModels.write(dir.resolve("q.gguf"), c, TinyGgufModels.randomWeights(c, 2), TinyGgufModels.Q8_0, false), REFERENCE)) {
            List<int[]> runs = List.of(
                    s.generate("of the", true, 10, 64, SamplingParams.defaults(7), null).tokens(),
                    s.generate("of the", true, 10, 64, SamplingParams.defaults(7), null).tokens(),
                    s.generate("of the", true, 10, 64, new SamplingParams(1.5f, 0, 1, 0, 1, 64, 8), null).tokens());
            assertArrayEquals(runs.get(0), runs.get(1));
            assertTrue(!Arrays.equals(runs.get(0), runs.get(2)), "another seed and temperature drew the same ten tokens");
        }
    }

    @Test
    void itStopsAtAFullContextOrEndOfSequenceAndSaysWhich() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        DecoderWeights w = TinyGgufModels.randomWeights(c, 5);
        try (GenerationSession s = GenerationSession.open(TinyGgufModels.write(dir.resolve("m.gguf"), c, w, TinyGgufModels.F32, false), REFERENCE)) {
            GenerationSession.Result full = s.generate("the", true, 100, 8, SamplingParams.greedy(), null);
            assertEquals(GenerationSession.Stop.CONTEXT_FULL, full.stop());
            assertEquals(8, full.promptTokens() + full.generatedTokens());
        }
        // An output norm of zeros makes every logit 0: greedy takes the lowest id, 0, here the end-of-sequence token.
        DecoderWeights silent = new DecoderWeights(w.tokenEmbedding(), w.layers(), new float[c.hidden()], w.output());
        try (GenerationSession s = GenerationSession.open(TinyGgufModels.write(dir.resolve("s.gguf"), c, silent, TinyGgufModels.F32, false, 0), REFERENCE)) {
            GenerationSession.Result r = s.generate("the", true, 100, 64, SamplingParams.greedy(), null);
            assertEquals(GenerationSession.Stop.END_OF_SEQUENCE, r.stop());
            assertEquals(0, r.generatedTokens());
            assertEquals("", r.text());
        }
    }

    @Test
    void aConversationKeepsItsKvCacheAndFeedsOnlyWhatEachTurnAdds() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        DecoderWeights w = TinyGgufModels.randomWeights(c, 44);
        String template = "{{ bos_token }}{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
        try (GenerationSession s = GenerationSession.open(TinyGgufModels.write(dir.resolve("c.gguf"), c, w, TinyGgufModels.F32, false, 2, template), REFERENCE)) {
            GenerationSession.Conversation chat = s.conversation("the", 128, SamplingParams.greedy());
            GenerationSession.Result first = chat.say("a to", 5, null), second = chat.say("of the", 5, null);
            TextTokenizer tok = s.tokenizer();
            String prompt1 = s.chatPrompt(List.of(new dev.offload.decoder.ChatTemplate.Message("system", "the"),
                    new dev.offload.decoder.ChatTemplate.Message("user", "a to")));
            int[] ids1 = tok.encode(prompt1, false);
            assertEquals(ids1.length, first.promptTokens(), "turn 1 feeds the whole rendered prompt");
            String delta = "</s><user>of the</s><assistant>";
            int[] ids2 = tok.encode(delta, false);
            assertEquals(ids2.length, second.promptTokens(), "turn 2 feeds only what the template added");
            assertEquals(ids1.length + first.generatedTokens() + ids2.length + second.generatedTokens(), chat.contextUsed());

            // The same history in one go through the reference gives turn 2's greedy answer.
            DecoderReference ref = new DecoderReference(c, w);
            DecoderReference.State st = ref.newState(128);
            int[] history = java.util.stream.IntStream.concat(java.util.stream.IntStream.concat(Arrays.stream(ids1), Arrays.stream(first.tokens())),
                    Arrays.stream(ids2)).toArray();
            float[] logits = ref.forward(history, st);
            int[] want = new int[second.generatedTokens()];
            for (int i = 0; i < want.length; i++) {
                want[i] = argmax(logits);
                logits = ref.forward(new int[] {want[i]}, st);
            }
            assertArrayEquals(want, second.tokens());
        }
    }

    static int argmax(float[] l) {
        int best = 0;
        for (int i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
        return best;
    }
}
