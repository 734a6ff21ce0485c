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

    /** The prompt's logits, then each greedy step's. */
    private static List<float[]> steps(DeviceDecoder d, int steps) {
        List<float[]> out = new ArrayList<>();
        try (DecoderBackend.Cache c = d.newCache(PROMPT.length + steps + 1)) {
            float[] logits = d.forward(PROMPT, c);
            out.add(logits);
            for (int s = 0; s < steps; s++) {
                logits = d.forward(new int[] {Sampler.argmax(logits)}, c);
                out.add(logits);
            }
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
            List<float[]> plain, replayed;
            String status;
            try (DeviceDecoder d = new DeviceDecoder(g.config(), w, 64, pool, PlacementSpec.parse("cl:cpu"), true, true, null)) {
                plain = steps(d, 6);
                assertTrue(d.stepReplayStatus().startsWith("plain: replay is off"), d.stepReplayStatus());
            }
            try (DeviceDecoder d = new DeviceDecoder(g.config(), w, 64, pool, PlacementSpec.parse("cl:cpu"), true, false, null)) {
                replayed = steps(d, 6);
                status = d.stepReplayStatus();
            }
            assertTrue(status.startsWith("replaying ") && status.contains(c.layers() + " node(s) enqueued plainly"), status);
            for (int i = 0; i < plain.size(); i++) assertArrayEquals(plain.get(i), replayed.get(i), "run " + i + " (0: the prompt)");
        }
    }
}
