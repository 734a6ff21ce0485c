package dev.offload.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.offload.model.gguf.GgufFile;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.PlacementSpec;
import dev.offload.runtime.ShapeRuntimes;
import dev.offload.testing.CpuDeviceFixture;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The device decoder's one-token step graph, recorded once and replayed per token (profiling off), gives every
 * step's logits bit for bit as the plain runs of a profiling decoder (which never replays), over prompts and steps
 * whose KV cache grows.
 */
class DecoderStepReplayTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();
    @TempDir Path dir;

    static final int[] PROMPT = {1, 270, 262, 17, 271, 99, 5, 263};

    /** The prompt's logits, then each greedy step's; {@code status} gets the step runtime's replay status before the cache closes. */
    private static List<float[]> steps(DeviceDecoder d, int steps, List<String> status) {
        List<float[]> out = new ArrayList<>();
        try (DecoderBackend.Cache c = d.newCache(PROMPT.length + steps + 1)) {
            float[] logits = d.forward(PROMPT, c);
            out.add(logits);
            for (int s = 0; s < steps; s++) {
                logits = d.forward(new int[] {Sampler.argmax(logits)}, c);
                out.add(logits);
            }
            status.add(d.stepReplayStatus());
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"LLAMA, 8", "QWEN2, 0"})
    void replayedStepsGiveThePlainStepsBits(DecoderConfig.Architecture arch, int type) throws Exception {
        assumeTrue(CL.device().device().commandBuffersUnsupported() == null, "the device cannot record command buffers");
        assumeTrue(ShapeRuntimes.replayAllowed(), "OFFLOAD_REPLAY turns replay off");
        DecoderConfig c = TinyGgufModels.config(arch);
        Path m = TinyGgufModels.write(dir.resolve(arch + ".gguf"), c, TinyGgufModels.randomWeights(c, 5 + type), type, false);
        try (GgufFile f = GgufFile.open(m); Arena arena = Arena.ofShared()) {
            GgufDecoder g = GgufDecoder.read(f);
            QuantizedWeights w = QuantizedWeights.load(f, g.config(), arena);
            DevicePool pool = DevicePool.of(CL.device());
            List<float[]> plain, replayed, again;
            List<String> status = new ArrayList<>();
            try (DeviceDecoder d = new DeviceDecoder(g.config(), w, 64, pool, PlacementSpec.parse("cl:cpu"), true, true, null)) {
                plain = steps(d, 6, status);
                assertTrue(status.getLast().startsWith("plain: replay is off"), status.getLast());
            }
            try (DeviceDecoder d = new DeviceDecoder(g.config(), w, 64, pool, PlacementSpec.parse("cl:cpu"), true, false, null)) {
                replayed = steps(d, 6, status);
                // The recording read the first sequence's cache: it is dropped with it, and the next sequence records anew.
                assertTrue(d.stepReplayStatus().startsWith("plain: the KV cache of the recorded decode steps closed"), d.stepReplayStatus());
                again = steps(d, 6, status);
            }
            // The whole step is one recorded command: no node runs outside it, not even attention over the growing cache.
            for (String st : status.subList(1, 3)) {
                assertTrue(st.startsWith("replaying ") && st.contains(" in 1 segment(s), 0 node(s) enqueued plainly"), st);
            }
            for (int i = 0; i < plain.size(); i++) {
                assertArrayEquals(plain.get(i), replayed.get(i), "run " + i + " (0: the prompt)");
                assertArrayEquals(plain.get(i), again.get(i), "second sequence, run " + i + " (0: the prompt)");
            }
        }
    }
}
