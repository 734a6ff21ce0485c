package dev.offload.ops.attention;

import static dev.offload.ops.attention.AttentionTesting.relativeError;
import static dev.offload.ops.attention.AttentionTesting.runPoisoned;
import static dev.offload.ops.attention.AttentionTesting.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.attention.AttentionTesting.Inputs;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fused kernel against the reference. Both fused kernels are exercised: the 16-row lane kernel
 * (chosen for Sq >= 16) and the row-per-work-item kernel with key splits (chosen for decode; forced
 * here with explicit split sizes).
 */
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

    /** Checks the automatic kernel choice and, for Sq >= 16, also the split kernel with splitSize keys per split. */
    static void check(AttentionProblem p, Inputs in, int splitSize) {
        float[] want = AttentionReference.compute(p, in.q(), in.k(), in.v());
        assertWithinBound(p, "auto", want, runPoisoned(fused, p, in));
        assertWithinBound(p, "split " + splitSize, want, runPoisoned(fused, p, in, splitSize));
    }

    static void check(AttentionProblem p, long seed) { check(p, Inputs.random(p.shape(), seed, 2f), 16); }

    static void assertWithinBound(AttentionProblem p, String variant, float[] want, float[] got) {
        double err = relativeError(want, got);
        assertTrue(err <= AttentionReference.FLOAT32_BOUND, p + " (" + variant + "): relative error " + err
                + " exceeds " + AttentionReference.FLOAT32_BOUND);
    }

    /**
     * Regression: at Sq = Skv = 2048 with D = 128 and 256 the row-lane kernel once overflowed PoCL's worker
     * stack (a JVM crash). With identical keys every key gets the same weight, so each output row is the mean
     * of V's rows: a closed form that needs no 17-GFLOP reference run.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256})
    void aLongPrefillWithALargeHeadDimensionRunsAndAveragesIdenticalKeys(int d) {
        AttentionShape s = new AttentionShape(1, 2, 2, 2048, 2048, d);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(d);
        float[] q = new float[(int) s.queryElements()], k = new float[(int) s.kvElements()], v = new float[(int) s.kvElements()];
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextDouble(-1, 1);
        for (int j = 0; j < s.kvLength(); j++) {
            for (int c = 0; c < d; c++) {
                k[j * d + c] = (float) Math.sin(c);                     // head 0: every key the same row
                k[(s.kvLength() + j) * d + c] = (float) Math.cos(c);    // head 1: likewise
            }
        }
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextDouble(-1, 1);
        float[] want = new float[(int) s.outputElements()];
        for (int h = 0; h < 2; h++) {
            double[] mean = new double[d];
            for (int j = 0; j < s.kvLength(); j++) for (int c = 0; c < d; c++) mean[c] += v[(h * s.kvLength() + j) * d + c];
            for (int i = 0; i < s.queryLength(); i++) {
                for (int c = 0; c < d; c++) want[(h * s.queryLength() + i) * d + c] = (float) (mean[c] / s.kvLength());
            }
        }
        AttentionProblem p = AttentionProblem.of(s);
        assertWithinBound(p, "auto", want, runPoisoned(fused, p, new Inputs(q, k, v)));
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 80, 96, 128, 256})
    void matchesReferenceForEveryHeadDimension(int d) {
        check(AttentionProblem.of(new AttentionShape(2, 3, 3, 37, 53, d)), d);
    }

    @Test
    void decodeOfOneQueryOverEightThousandKeysSplitsAndMerges() {
        AttentionShape s = new AttentionShape(1, 4, 2, 1, 8192, 128);
        assertTrue(fused.splitSize(s) < s.kvLength(), "decode is split across work-items");
        check(AttentionProblem.of(s), 11);
    }

    @Test
    void decodeWithHeadDim256HonoursPerSequenceLengthsAndCausality() {
        AttentionShape s = new AttentionShape(2, 2, 1, 1, 3001, 256);
        check(AttentionProblem.of(s).withMask(Mask.CAUSAL.withKvLengths(new int[] {2999, 777})), 12);
    }

    @Test
    void groupedQueryHeadsMatchReference() {
        check(AttentionProblem.of(new AttentionShape(1, 8, 2, 20, 33, 64)), 13);
    }

    @Test
    void causalMaskIsBottomRightAlignedWhenQueriesAreFewerThanKeys() {
        check(AttentionProblem.of(new AttentionShape(1, 2, 2, 21, 50, 32)).withMask(Mask.CAUSAL), 14);
    }

    @Test
    void longKeySequencesStayWithinTheFloat32Bound() {
        check(AttentionProblem.of(new AttentionShape(1, 1, 1, 17, 8192, 64)), 15);
    }

    @Test
    void kvLengthsMaskPaddedKeysCombinedWithCausality() {
        AttentionShape s = new AttentionShape(2, 2, 1, 19, 50, 32);
        check(AttentionProblem.of(s).withMask(new Mask(true, new int[] {17, 50}, null)), 16);
    }

    @Test
    void paddedKeysAndValuesDoNotInfluenceTheOutput() {
        AttentionShape s = new AttentionShape(2, 2, 2, 18, 40, 32);
        AttentionProblem p = AttentionProblem.of(s).withMask(Mask.NONE.withKvLengths(new int[] {23, 40}));
        Inputs in = Inputs.random(s, 17, 2f);
        float[] k2 = in.k().clone(), v2 = in.v().clone();
        for (int h = 0; h < 2; h++) {   // garble keys 23.. of sequence 0
            for (int j = 23; j < 40; j++) {
                for (int c = 0; c < 32; c++) {
                    int at = ((0 * 2 + h) * 40 + j) * 32 + c;
                    k2[at] = 100f;
                    v2[at] = -1e6f;
                }
            }
        }
        Inputs garbled = new Inputs(in.q(), k2, v2);
        assertArrayEquals(runPoisoned(fused, p, in), runPoisoned(fused, p, garbled));
        assertArrayEquals(runPoisoned(fused, p, in, 16), runPoisoned(fused, p, garbled, 16));
    }

    static Mask.Additive additive(AttentionShape s, Mask.Layout layout, long seed) {
        Random r = new Random(seed);
        float[] values = uniform(r, layout.elements(s), 3f);
        for (int i = 0; i < values.length; i += 7) values[i] = Float.NEGATIVE_INFINITY;
        return new Mask.Additive(values, layout);
    }

    @Test
    void additiveMaskBroadcastOverBatchAndHeads() {
        AttentionShape s = new AttentionShape(2, 4, 2, 23, 31, 64);
        check(AttentionProblem.of(s).withMask(Mask.NONE.withAdditive(additive(s, Mask.Layout.QUERY_KEY, 18))), 19);
    }

    @Test
    void additiveMaskPerBatchAndPerBatchAndHead() {
        AttentionShape s = new AttentionShape(2, 4, 2, 23, 31, 64);
        check(AttentionProblem.of(s).withMask(Mask.NONE.withAdditive(additive(s, Mask.Layout.BATCH_QUERY_KEY, 20))), 21);
        check(AttentionProblem.of(s).withMask(new Mask(true, new int[] {30, 12},
                additive(s, Mask.Layout.BATCH_HEAD_QUERY_KEY, 22))), 23);
    }

    @Test
    void rowsWhoseKeysAreAllMaskedAreZerosNotNaN() {
        // Sq > Skv with a causal mask: query i sees keys j <= i - 10, so queries 0..9 see none; sequence 1 has no keys.
        AttentionShape s = new AttentionShape(2, 2, 2, 30, 20, 32);
        AttentionProblem p = AttentionProblem.of(s).withMask(new Mask(true, new int[] {20, 0}, null));
        Inputs in = Inputs.random(s, 24, 2f);
        for (float[] got : new float[][] {runPoisoned(fused, p, in), runPoisoned(fused, p, in, 16)}) {
            for (int h = 0; h < 2; h++) {
                for (int i = 0; i < 30; i++) {
                    for (int c = 0; c < 32; c++) {
                        float x0 = got[((0 * 2 + h) * 30 + i) * 32 + c];
                        float x1 = got[((1 * 2 + h) * 30 + i) * 32 + c];
                        if (i < 10) assertEquals(0f, x0, "sequence 0 query " + i + " sees no key");
                        else assertFalse(Float.isNaN(x0));
                        assertEquals(0f, x1, "sequence 1 has no keys");
                    }
                }
            }
        }
        check(p, in, 16);
    }

    @Test
    void halfStorageMatchesReferenceOnHalfRoundedInputs() {
        AttentionShape prefill = new AttentionShape(2, 4, 2, 29, 45, 80);
        check(AttentionProblem.of(prefill).withStorage(Storage.FLOAT16)
                .withMask(new Mask(true, new int[] {45, 20}, additive(prefill, Mask.Layout.QUERY_KEY, 25))), 26);
        check(AttentionProblem.of(new AttentionShape(1, 4, 4, 1, 4100, 128)).withStorage(Storage.FLOAT16), 27);
    }

    @Test
    void explicitScaleSharpensTheSoftmax() {
        check(AttentionProblem.of(new AttentionShape(1, 2, 2, 16, 64, 32)).withScale(1.7f), 28);
    }

    @Test
    void everySplitSizeGivesTheSameResultWithinRounding() {
        AttentionShape s = new AttentionShape(1, 3, 3, 5, 1000, 64);
        AttentionProblem p = AttentionProblem.of(s).withMask(Mask.CAUSAL);
        Inputs in = Inputs.random(s, 29, 2f);
        float[] want = AttentionReference.compute(p, in.q(), in.k(), in.v());
        for (int split : new int[] {16, 48, 256, 1000}) assertWithinBound(p, "split " + split, want, runPoisoned(fused, p, in, split));
    }

    @Test
    void tooSmallOutputBufferIsRejectedBeforeAnyLaunch() {
        AttentionProblem p = AttentionProblem.of(new AttentionShape(1, 1, 1, 4, 4, 32));
        try (Buffer q = device.upload(new float[128]); Buffer kv = device.upload(new float[128]);
             Buffer small = device.upload(new float[100])) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fused.run(p, q, kv, kv, small));
            assertTrue(e.getMessage().contains("O buffer"), e.getMessage());
        }
    }

    @Test
    void joclBindingComputesTheSameAttention() {
        try (OpenClDevice jocl = new OpenClDevice(DeviceRegistry.discover(Binding.JOCL).resolve("cl:cpu").orElseThrow())) {
            AttentionShape s = new AttentionShape(1, 4, 2, 19, 41, 64);
            AttentionProblem p = AttentionProblem.of(s).withMask(Mask.CAUSAL);
            Inputs in = Inputs.random(s, 30, 2f);
            float[] want = AttentionReference.compute(p, in.q(), in.k(), in.v());
            assertWithinBound(p, "jocl", want, runPoisoned(new FusedAttention(jocl), p, in));
            AttentionProblem decode = AttentionProblem.of(new AttentionShape(1, 4, 2, 1, 2048, 64));
            Inputs din = Inputs.random(decode.shape(), 31, 2f);
            assertWithinBound(decode, "jocl decode", AttentionReference.compute(decode, din.q(), din.k(), din.v()),
                    new FusedAttention(jocl).compute(decode, din.q(), din.k(), din.v()));
        }
    }

    /**
     * The graph runtime passes key lengths as a device buffer (they are computed on the device). Lengths outside
     * [0, Skv] act as clamped: the result equals the reference with the clamped host lengths, on both kernels
     * (Sq = 19 takes the row-lane kernel, Sq = 1 the split kernel), with every output written.
     */
    @ParameterizedTest
    @ValueSource(ints = {19, 1})
    void keyLengthsFromADeviceBufferActAsClampedHostLengths(int sq) {
        int[] raw = {-3, 0, 7, 29, 40};
        int skv = 29;
        int[] clamped = java.util.Arrays.stream(raw).map(x -> Math.min(Math.max(x, 0), skv)).toArray();
        AttentionShape s = new AttentionShape(raw.length, 4, 2, sq, skv, 32);
        AttentionProblem hostLengths = AttentionProblem.of(s).withMask(Mask.NONE.withKvLengths(clamped));
        Inputs in = Inputs.random(s, 77 + sq, 2f);
        float[] want = AttentionReference.compute(hostLengths, in.q(), in.k(), in.v());
        AttentionProblem plain = AttentionProblem.of(s);
        int n = Math.toIntExact(s.outputElements());
        java.util.List<dev.offload.cl.Event> events = new java.util.ArrayList<>();
        try (Buffer q = device.upload(in.q()); Buffer k = device.upload(in.k()); Buffer v = device.upload(in.v());
             Buffer lengths = device.upload(raw); Buffer out = device.upload(AttentionTesting.nans(n))) {
            fused.enqueue(plain, q, k, v, out, lengths, (kernel, global, local) -> events.add(device.launch(kernel, global, local)));
            float[] got = device.readFloats(out, n);
            assertWithinBound(hostLengths, "device lengths", want, got);
        } finally {
            events.forEach(dev.offload.cl.Event::close);
        }
    }

    /**
     * Token-major Q, K, V, O ([B,S,H,D], the graph's activations without transposes) give what the reference gives on
     * the same tensors, through the row-lane kernel (Sq = 37), the split kernel with several splits (forced), and
     * decode (Sq = 1) — with grouped-query heads, causal masking and key lengths, into a poisoned output.
     */
    @ParameterizedTest
    @ValueSource(ints = {37, 1})
    void tokenMajorLayoutMatchesTheReference(int sq) {
        AttentionShape s = new AttentionShape(3, 6, 2, sq, 53, 32);
        AttentionProblem p = AttentionProblem.of(s).withMask(Mask.CAUSAL.withKvLengths(new int[] {53, 20, 1}))
                .withLayout(AttentionProblem.Layout.TOKEN_MAJOR);
        check(p, Inputs.random(s, 500 + sq, 2f), 16);
    }
}
