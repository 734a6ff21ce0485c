package dev.offload.ops.attention;

import static dev.offload.ops.attention.AttentionTesting.relativeError;
import static dev.offload.ops.attention.AttentionTesting.runPoisoned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.attention.AttentionTesting.Inputs;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FusedAttentionTest {
    static OpenClDevice device;
    static FusedAttention fused;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        fused = new FusedAttention(device);
    }

    @AfterAll
    static void close() { device.close(); }

    static double check(AttentionProblem p, long seed, float amplitude) {
        Inputs in = Inputs.random(p.shape(), seed, amplitude);
        float[] want = AttentionReference.compute(p, in.q(), in.k(), in.v());
        float[] got = runPoisoned(fused, p, in);
        double err = relativeError(want, got);
        System.out.printf("%s: error %.3g%n", p, err);
        assertTrue(err <= AttentionReference.FLOAT32_BOUND, p + ": relative error " + err);
        return err;
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 80, 96, 128, 256})
    void matchesReferenceForEveryHeadDimension(int d) {
        check(AttentionProblem.of(new AttentionShape(2, 3, 3, 37, 53, d)), d, 2f);
    }

    @Test
    void decodeOfOneQueryOverEightThousandKeysSplitsAndMerges() {
        AttentionShape s = new AttentionShape(1, 4, 2, 1, 8192, 128);
        assertTrue(fused.splitSize(s) < s.kvLength(), "decode is split across work-items");
        check(AttentionProblem.of(s), 11, 1f);
    }
}
