package dev.offload.ops.attention;

import static dev.offload.ops.attention.AttentionTesting.relativeError;
import static dev.offload.ops.attention.AttentionTesting.runPoisoned;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.attention.AttentionTesting.Inputs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The three-kernel path against the reference, with every mask part and both storages. */
class UnfusedAttentionTest {
    static OpenClDevice device;

    @BeforeAll
    static void open() { device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow()); }

    @AfterAll
    static void close() { device.close(); }

    static void check(AttentionProblem p, long seed) {
        Inputs in = Inputs.random(p.shape(), seed, 2f);
        double err = relativeError(AttentionReference.compute(p, in.q(), in.k(), in.v()),
                runPoisoned(new UnfusedAttention(device), p, in));
        assertTrue(err <= AttentionReference.FLOAT32_BOUND, p + ": relative error " + err);
    }

    @Test
    void matchesReferenceWithEveryMaskPartCombined() {
        AttentionShape s = new AttentionShape(2, 4, 2, 13, 29, 64);
        Mask.Additive bias = FusedAttentionTest.additive(s, Mask.Layout.BATCH_HEAD_QUERY_KEY, 40);
        check(AttentionProblem.of(s).withMask(new Mask(true, new int[] {29, 0}, bias)), 41);
    }

    @Test
    void matchesReferenceForDecodeWithHalfStorage() {
        check(AttentionProblem.of(new AttentionShape(1, 8, 2, 1, 3000, 64)).withStorage(Storage.FLOAT16), 42);
    }

    @Test
    void matchesReferenceWithoutMask() {
        check(AttentionProblem.of(new AttentionShape(1, 2, 2, 37, 41, 64)), 43);
    }
}
