package dev.offload.ops.attention;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import dev.offload.validate.CheckResult;
import dev.offload.validate.Compare;
import dev.offload.validate.GuardedOutput;
import dev.offload.validate.OpValidator;
import dev.offload.validate.ValidationOptions;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fused (and, on a few shapes, unfused) attention against {@link AttentionReference}: every supported
 * head dimension, decode up to 8192 keys, prime lengths, grouped-query heads, per-sequence lengths,
 * causal with fewer queries than keys, additive masks, fp16 storage. Outputs are guarded and poisoned. The GPU-shaped
 * attention_tiled runs forced on every device (on CPUs it is not the default, but must be correct): with the GPU
 * default tile and an odd one (5 rows, 12 keys, 4 items a row), at Sq = 1, 5, 33, 100, keys that fill no tile, head
 * dimensions 64 and 128 (quick) and 32, grouped-query heads 32/8 and 4/1, causal, padded and additive masks, and
 * decode over 4096 keys split across work-groups and merged.
 */
public final class AttentionValidator implements OpValidator {

    @Override public String op() { return "attention"; }

    /** One check: a problem and which implementation runs it (tile non-null: attention_tiled with it, forced). */
    private record Case(AttentionProblem problem, boolean unfused, AttentionConfig.Tiled tile) {
        Case(AttentionProblem problem, boolean unfused) { this(problem, unfused, null); }
    }

    /** The GPU default tile without sub-groups (PoCL has none), and an odd one that divides no shape below. */
    private static final AttentionConfig.Tiled GPU_TILE = new AttentionConfig.Tiled(16, 32, 16, false);
    private static final AttentionConfig.Tiled ODD_TILE = new AttentionConfig.Tiled(5, 12, 4, false);

    private static void tiledCases(List<Case> cases, boolean quick, SplittableRandom rnd) {
        AttentionShape prefill = new AttentionShape(2, 4, 1, 33, 50, 128);
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 32, 8, 1, 301, 128)).withMask(Mask.CAUSAL), false, GPU_TILE));
        cases.add(new Case(AttentionProblem.of(prefill).withMask(new Mask(true, new int[] {50, 9},
                additive(prefill, Mask.Layout.BATCH_QUERY_KEY, rnd))), false, GPU_TILE));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 32, 8, 5, 70, 64)).withMask(Mask.CAUSAL), false, ODD_TILE));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 32, 8, 5, 70, 64)).withMask(Mask.causal(7)), false, ODD_TILE));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 8, 2, 1, 4096, 128)).withMask(Mask.causal(1500)), false, GPU_TILE));
        cases.add(new Case(AttentionProblem.of(prefill).withMask(new Mask(true, new int[] {50, 9},
                additive(prefill, Mask.Layout.BATCH_QUERY_KEY, rnd), 16)), false, GPU_TILE));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 32, 8, 5, 70, 64)).withMask(Mask.causal(7)).withSoftcap(0.6f), false, ODD_TILE));
        // Decode over a long cache: the keys split across work-groups (4 splits with a CPU's split parameters), merged.
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 8, 2, 1, 4096, 128)).withMask(Mask.NONE.withKvLengths(new int[] {4001})),
                false, GPU_TILE));
        if (quick) return;
        for (AttentionConfig.Tiled t : new AttentionConfig.Tiled[] {GPU_TILE, ODD_TILE}) {
            for (int sq : new int[] {1, 5, 33, 100}) {
                for (int d : new int[] {32, 64, 128}) {
                    cases.add(new Case(AttentionProblem.of(new AttentionShape(2, 4, 4, sq, 77, d)).withMask(Mask.CAUSAL.withKvLengths(new int[] {77, 40})),
                            false, t));
                }
            }
            cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 4, 1, 100, 100, 64)).withStorage(Storage.FLOAT16), false, t));
            cases.add(new Case(AttentionProblem.of(new AttentionShape(2, 4, 2, 33, 61, 64)).withLayout(AttentionProblem.Layout.TOKEN_MAJOR)
                    .withMask(Mask.CAUSAL), false, t));
        }
    }

    private static List<Case> cases(boolean quick, SplittableRandom rnd) {
        List<Case> cases = new ArrayList<>();
        AttentionShape gqa = new AttentionShape(1, 8, 2, 37, 37, 64);
        AttentionShape batched = new AttentionShape(2, 4, 4, 29, 61, 64);
        cases.add(new Case(AttentionProblem.of(gqa).withMask(Mask.CAUSAL), false));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 4, 2, 1, 2048, 128)), false));
        cases.add(new Case(AttentionProblem.of(batched).withMask(new Mask(true, new int[] {61, 13},
                additive(batched, Mask.Layout.QUERY_KEY, rnd))), false));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 2, 2, 19, 40, 80)).withStorage(Storage.FLOAT16)
                .withMask(Mask.CAUSAL), false));
        cases.add(new Case(AttentionProblem.of(gqa).withMask(Mask.CAUSAL), true));
        // Sliding windows (Gemma 3's local layers): one ending inside a key block, a row's own key alone, one as wide
        // as the keys, with lengths and an additive mask, a decode step whose first splits see no key, the unfused
        // path, half storage.
        cases.add(new Case(AttentionProblem.of(gqa).withMask(Mask.causal(5)), false));
        cases.add(new Case(AttentionProblem.of(gqa).withMask(Mask.causal(1)), false));
        cases.add(new Case(AttentionProblem.of(gqa).withMask(Mask.causal(37)), false));
        cases.add(new Case(AttentionProblem.of(batched).withMask(new Mask(true, new int[] {61, 13},
                additive(batched, Mask.Layout.QUERY_KEY, rnd), 20)), false));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 4, 2, 1, 2048, 128)).withMask(Mask.causal(300)), false));
        cases.add(new Case(AttentionProblem.of(gqa).withMask(Mask.causal(9)), true));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 2, 2, 19, 40, 80)).withStorage(Storage.FLOAT16)
                .withMask(Mask.causal(3)), false));
        // Soft-capped scores (Gemma 2), a cap below the scores' size so that it bites: prefill rows, a decode step with
        // key splits and a window, the unfused path, an additive mask after the cap.
        cases.add(new Case(AttentionProblem.of(gqa).withMask(Mask.CAUSAL).withScale(1f).withSoftcap(1.5f), false));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 4, 2, 1, 2048, 128)).withMask(Mask.causal(300)).withSoftcap(0.75f), false));
        cases.add(new Case(AttentionProblem.of(gqa).withMask(Mask.causal(9)).withScale(1f).withSoftcap(2f), true));
        cases.add(new Case(AttentionProblem.of(batched).withMask(new Mask(true, new int[] {61, 13},
                additive(batched, Mask.Layout.QUERY_KEY, rnd), 20)).withSoftcap(0.5f), false));
        tiledCases(cases, quick, rnd);
        if (quick) return cases;
        for (int d : new int[] {32, 64, 80, 96, 128, 256}) {
            AttentionShape s = new AttentionShape(1, 2, 2, 37, 37, d);
            cases.add(new Case(AttentionProblem.of(s), false));
            cases.add(new Case(AttentionProblem.of(s).withMask(Mask.CAUSAL), false));
        }
        for (int skv : new int[] {1, 15, 257, 4096, 8192}) {
            cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 8, 2, 1, skv, 128)), false));
        }
        cases.add(new Case(AttentionProblem.of(new AttentionShape(2, 4, 1, 1, 8192, 256))
                .withMask(Mask.NONE.withKvLengths(new int[] {8192, 5003})), false));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(2, 8, 2, 1, 4096, 128)).withStorage(Storage.FLOAT16), false));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 2, 2, 53, 211, 96)).withMask(Mask.CAUSAL), false));
        AttentionShape masked = new AttentionShape(2, 8, 2, 31, 47, 64);
        cases.add(new Case(AttentionProblem.of(masked).withMask(Mask.NONE.withAdditive(
                additive(masked, Mask.Layout.BATCH_HEAD_QUERY_KEY, rnd))), false));
        cases.add(new Case(AttentionProblem.of(masked).withMask(new Mask(true, new int[] {0, 40},
                additive(masked, Mask.Layout.BATCH_QUERY_KEY, rnd))), false));
        cases.add(new Case(AttentionProblem.of(masked).withMask(new Mask(true, new int[] {0, 40},
                additive(masked, Mask.Layout.BATCH_QUERY_KEY, rnd))), true));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 4, 4, 64, 512, 128)).withStorage(Storage.FLOAT16)
                .withMask(Mask.CAUSAL).withScale(0.3f), false));
        cases.add(new Case(AttentionProblem.of(new AttentionShape(1, 4, 4, 64, 512, 128)).withStorage(Storage.FLOAT16), true));
        return cases;
    }

    private static String tileBrief(AttentionOp op, AttentionShape s) { return ((FusedAttention) op).tileFor(s).brief(); }

    /** Bias uniform in [-3, 3] with every 7th entry -infinity (masked). */
    private static Mask.Additive additive(AttentionShape s, Mask.Layout layout, SplittableRandom rnd) {
        float[] values = uniform(rnd, layout.elements(s), 3);
        for (int i = 0; i < values.length; i += 7) values[i] = Float.NEGATIVE_INFINITY;
        return new Mask.Additive(values, layout);
    }

    private static float[] uniform(SplittableRandom rnd, long n, double amplitude) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-amplitude, amplitude);
        return a;
    }

    @Override
    public List<CheckResult> validate(OpenClDevice device, ValidationOptions options) {
        SplittableRandom rnd = new SplittableRandom(options.seed());
        List<CheckResult> results = new ArrayList<>();
        List<Case> cases = cases(options.quick(), rnd);
        // Where the device's own configuration has a tile (GPUs: with sub-groups where it has them), that tile too.
        AttentionConfig.Tiled own = AttentionConfig.resolve(device.info()).config().tiled();
        if (own != null && !own.equals(GPU_TILE)) {
            for (Case c : List.copyOf(cases)) if (GPU_TILE.equals(c.tile())) cases.add(new Case(c.problem(), false, own));
        }
        for (Case c : cases) {
            AttentionProblem p = c.problem();
            AttentionShape s = p.shape();
            float[] q = uniform(rnd, s.queryElements(), 2), k = uniform(rnd, s.kvElements(), 2), v = uniform(rnd, s.kvElements(), 1);
            float[] want = AttentionReference.compute(p, q, k, v);
            AttentionOp op = c.unfused() ? new UnfusedAttention(device)
                    : c.tile() != null ? new FusedAttention(device, AttentionConfig.resolve(device.info()).config().withTiled(c.tile()))
                    : new FusedAttention(device, AttentionConfig.resolve(device.info()).config().withTiled(null));
            // Under the FPGA style, or where the keys are split, attention_tiled does not run (attention_fused does): the label says so.
            boolean tiled = op instanceof FusedAttention f && f.usesTiled(s);
            String label = (c.unfused() ? "unfused " : tiled ? "tiled " + tileBrief(op, s) + " " : c.tile() != null ? "fused (not tiled here) " : "fused ") + p;
            try (Arena arena = Arena.ofConfined();
                 GuardedOutput out = GuardedOutput.floats(device, Math.toIntExact(s.outputElements()));
                 Buffer qb = device.upload(p.storage().encode(arena, q));
                 Buffer kb = device.upload(p.storage().encode(arena, k));
                 Buffer vb = device.upload(p.storage().encode(arena, v))) {
                op.run(p, qb, kb, vb, out.buffer());
                results.add(Compare.relative(op(), label, device.spec(), want, out.readFloats(),
                        AttentionReference.FLOAT32_BOUND, out.guardsIntact()));
            }
        }
        decodeSteps(device, options.quick(), rnd, results);
        return results;
    }

    /**
     * A decode step over a KV cache on the device ({@link FusedAttention#enqueueDecodeStep}): a batch, capacity and
     * count after the step. The first count - 1 rows of each sequence's cache hold earlier tokens, the rest poison
     * (NaN), guarded; the step must append its token at row count - 1, leave every other byte as it was, and attend
     * over exactly the count's keys (a poisoned key read would make the row NaN).
     */
    /** A decode step: count tokens filled (the new one last) of the cache's capacity, a sliding window of window keys (0: none). */
    private record DecodeStepCase(AttentionShape cache, int count, int window) {
        DecodeStepCase(AttentionShape cache, int count) { this(cache, count, 0); }
    }

    private static List<DecodeStepCase> decodeStepCases(boolean quick) {
        List<DecodeStepCase> cases = new ArrayList<>();
        cases.add(new DecodeStepCase(new AttentionShape(2, 8, 2, 1, 300, 64), 257));          // GQA 4:1, a batch of two
        cases.add(new DecodeStepCase(new AttentionShape(1, 32, 8, 1, 4096, 128), 4001));      // split keys, merged
        cases.add(new DecodeStepCase(new AttentionShape(2, 8, 2, 1, 3000, 64), 2100, 700));   // a window: early splits see nothing
        if (quick) return cases;
        cases.add(new DecodeStepCase(new AttentionShape(1, 4, 2, 1, 40, 64), 5, 8));          // a window wider than the tokens
        cases.add(new DecodeStepCase(new AttentionShape(1, 4, 4, 1, 17, 32), 1));             // the first token: one key
        cases.add(new DecodeStepCase(new AttentionShape(3, 4, 1, 1, 64, 80), 64));            // the last free row
        cases.add(new DecodeStepCase(new AttentionShape(1, 14, 2, 1, 2500, 64), 1025));       // one key into a second split
        return cases;
    }

    private void decodeSteps(OpenClDevice device, boolean quick, SplittableRandom rnd, List<CheckResult> results) {
        FusedAttention op = new FusedAttention(device, AttentionConfig.resolve(device.info()).config().withTiled(null));
        for (DecodeStepCase c : decodeStepCases(quick)) {
            AttentionShape s = c.cache();
            int b = s.batch(), cap = s.kvLength(), n = c.count(), w = s.kvHeads() * s.headDim();
            AttentionProblem step = AttentionProblem.of(s).withMask(Mask.causal(c.window())).withLayout(AttentionProblem.Layout.TOKEN_MAJOR);
            float[] q = uniform(rnd, s.queryElements(), 2), kNew = uniform(rnd, (long) b * w, 2), vNew = uniform(rnd, (long) b * w, 1);
            float[] kOld = uniform(rnd, (long) b * (n - 1) * w, 2), vOld = uniform(rnd, (long) b * (n - 1) * w, 1);
            // What attention sees: the earlier rows, then the new one, per sequence ([b, n, w]).
            float[] kAll = new float[b * n * w], vAll = new float[b * n * w];
            // The cache afterwards: earlier rows, the new row, poison after.
            int poison = java.nio.ByteBuffer.wrap(GuardedOutput.FLOAT_POISON).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
            int[] kWant = new int[b * cap * w], vWant = new int[b * cap * w];
            java.util.Arrays.fill(kWant, poison);
            java.util.Arrays.fill(vWant, poison);
            for (int seq = 0; seq < b; seq++) {
                System.arraycopy(kOld, seq * (n - 1) * w, kAll, seq * n * w, (n - 1) * w);
                System.arraycopy(vOld, seq * (n - 1) * w, vAll, seq * n * w, (n - 1) * w);
                System.arraycopy(kNew, seq * w, kAll, (seq * n + n - 1) * w, w);
                System.arraycopy(vNew, seq * w, vAll, (seq * n + n - 1) * w, w);
                for (int i = 0; i < n * w; i++) {
                    kWant[seq * cap * w + i] = Float.floatToRawIntBits(kAll[seq * n * w + i]);
                    vWant[seq * cap * w + i] = Float.floatToRawIntBits(vAll[seq * n * w + i]);
                }
            }
            AttentionShape seen = new AttentionShape(b, s.heads(), s.kvHeads(), 1, n, s.headDim());
            float[] want = AttentionReference.compute(AttentionProblem.of(seen).withMask(Mask.causal(c.window()))
                    .withLayout(AttentionProblem.Layout.TOKEN_MAJOR), q, kAll, vAll);
            int[] counts = new int[b];
            java.util.Arrays.fill(counts, n);
            String label = "decode step over a device KV cache, " + n + " of " + cap + " tokens, " + seen
                    + (c.window() > 0 ? ", window " + c.window() : "");
            try (Arena arena = Arena.ofConfined();
                 GuardedOutput out = GuardedOutput.floats(device, Math.toIntExact(s.outputElements()));
                 GuardedOutput kCache = GuardedOutput.floats(device, b * cap * w);
                 GuardedOutput vCache = GuardedOutput.floats(device, b * cap * w);
                 Buffer qb = device.upload(q); Buffer kb = device.upload(kNew); Buffer vb = device.upload(vNew);
                 Buffer lengths = device.upload(counts)) {
                for (int seq = 0; seq < b && n > 1; seq++) {
                    long at = 4L * seq * cap * w;
                    device.queue().write(kCache.buffer(), at, arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT,
                            java.util.Arrays.copyOfRange(kOld, seq * (n - 1) * w, (seq + 1) * (n - 1) * w))).await().close();
                    device.queue().write(vCache.buffer(), at, arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT,
                            java.util.Arrays.copyOfRange(vOld, seq * (n - 1) * w, (seq + 1) * (n - 1) * w))).await().close();
                }
                List<dev.offload.cl.Event> events = new ArrayList<>();
                op.enqueueDecodeStep(step, qb, kb, vb, kCache.buffer(), vCache.buffer(), lengths, out.buffer(),
                        (kernel, global, local) -> events.add(device.launch(kernel, global, local)), null);
                dev.offload.cl.Event.awaitAll(events);
                events.forEach(dev.offload.cl.Event::close);
                results.add(Compare.relative(op(), label, device.spec(), want, out.readFloats(), AttentionReference.FLOAT32_BOUND,
                        out.guardsIntact()));
                results.add(Compare.exact(op(), "the keys it leaves: " + label, device.spec(), kWant, kCache.readInts(), kCache.guardsIntact()));
                results.add(Compare.exact(op(), "the values it leaves: " + label, device.spec(), vWant, vCache.readInts(), vCache.guardsIntact()));
            }
        }
    }
}
