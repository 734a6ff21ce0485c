package dev.offload.ops.attention;

import static dev.offload.ops.attention.AttentionTesting.relativeError;
import static dev.offload.ops.attention.AttentionTesting.runPoisoned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.attention.AttentionTesting.Inputs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * attention_tiled, the GPU-shaped kernel, forced on PoCL's CPU device (where it is correct but not the default): query
 * rows not a multiple of the tile's rows, keys not a multiple of its key tile, decode (Sq = 1), grouped-query heads,
 * causal and padding masks, additive masks, both layouts, fp16 storage, and NaN/infinities as the reference keeps
 * them. Every output is poisoned first, so an unwritten element fails.
 */
class TiledAttentionTest {
    static OpenClDevice device;
    /** The GPU default tile (16 rows, 32 keys, 16 items a row), local-memory reductions (PoCL has no sub-groups). */
    static FusedAttention standard;
    /** An odd tile: 5 rows, 12 keys, 4 items a row (rows and keys that divide no shape below). */
    static FusedAttention odd;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        AttentionConfig cpu = AttentionConfig.forDevice(device.info());
        standard = new FusedAttention(device, cpu.withTiled(new AttentionConfig.Tiled(16, 32, 16, false)));
        odd = new FusedAttention(device, cpu.withTiled(new AttentionConfig.Tiled(5, 12, 4, false)));
    }

    @AfterAll
    static void close() { device.close(); }

    static void check(AttentionProblem p, long seed) {
        Inputs in = Inputs.random(p.shape(), seed, 2f);
        float[] want = AttentionReference.compute(p, in.q(), in.k(), in.v());
        for (FusedAttention op : new FusedAttention[] {standard, odd}) {
            assertTrue(op.usesTiled(p.shape()), "the tiled kernel takes " + p.shape());
            // As chosen, and with the keys split in 40s (a multiple of neither key tile) and merged.
            for (int split : new int[] {-1, 40}) {
                double err = relativeError(want, runPoisoned(op, p, in, split));
                assertTrue(err <= AttentionReference.FLOAT32_BOUND, p + " tile " + op.config().tiled() + " split " + split
                        + ": relative error " + err + " exceeds " + AttentionReference.FLOAT32_BOUND);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 33, 100})
    void queryRowsThatFillNoTileMatchTheReference(int sq) {
        check(AttentionProblem.of(new AttentionShape(1, 4, 4, sq, 77, 64)), sq);
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 128})
    void everyEncoderAndDecoderHeadDimension(int d) {
        check(AttentionProblem.of(new AttentionShape(2, 2, 2, 21, 45, d)).withMask(Mask.CAUSAL), 100 + d);
    }

    @Test
    void groupedQueryHeads32Over8And4Over1() {
        check(AttentionProblem.of(new AttentionShape(1, 32, 8, 5, 70, 64)).withMask(Mask.CAUSAL), 201);
        check(AttentionProblem.of(new AttentionShape(2, 4, 1, 33, 50, 128)).withMask(Mask.CAUSAL.withKvLengths(new int[] {50, 9})), 202);
    }

    @Test
    void decodeOverAKvCacheWithPaddedSequences() {
        check(AttentionProblem.of(new AttentionShape(3, 8, 2, 1, 301, 128)).withMask(Mask.CAUSAL.withKvLengths(new int[] {301, 130, 1})), 203);
    }

    @Test
    void additiveMasksAndAnExplicitScale() {
        AttentionShape s = new AttentionShape(2, 4, 2, 23, 31, 64);
        check(AttentionProblem.of(s).withMask(new Mask(true, new int[] {30, 12},
                FusedAttentionTest.additive(s, Mask.Layout.BATCH_HEAD_QUERY_KEY, 204))).withScale(0.4f), 205);
        check(AttentionProblem.of(s).withMask(Mask.NONE.withAdditive(FusedAttentionTest.additive(s, Mask.Layout.QUERY_KEY, 206))), 207);
    }

    @Test
    void tokenMajorLayoutAndHalfStorage() {
        AttentionShape s = new AttentionShape(3, 6, 2, 37, 53, 32);
        check(AttentionProblem.of(s).withMask(Mask.CAUSAL.withKvLengths(new int[] {53, 20, 1})).withLayout(AttentionProblem.Layout.TOKEN_MAJOR), 208);
        check(AttentionProblem.of(new AttentionShape(1, 4, 2, 19, 40, 64)).withStorage(Storage.FLOAT16).withMask(Mask.CAUSAL), 209);
    }

    @Test
    void rowsWhoseKeysAreAllMaskedAreZeros() {
        // Sq > Skv, causal: queries 0..9 see no key; sequence 1 has none at all.
        AttentionShape s = new AttentionShape(2, 2, 2, 30, 20, 32);
        AttentionProblem p = AttentionProblem.of(s).withMask(new Mask(true, new int[] {20, 0}, null));
        float[] got = runPoisoned(standard, p, Inputs.random(s, 210, 2f));
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 30; i++) {
                for (int c = 0; c < 32; c++) {
                    if (i < 10) assertEquals(0f, got[((0 * 2 + h) * 30 + i) * 32 + c], "sequence 0 query " + i + " sees no key");
                    assertEquals(0f, got[((2 + h) * 30 + i) * 32 + c], "sequence 1 has no keys");
                }
            }
        }
        check(p, 211);
    }

    /**
     * A NaN, +inf or -inf in a query row, a key or a value, with causal masking (so some rows do not see the key):
     * every output is of the reference's kind (NaN, +inf, -inf, finite), the finite ones within the bound.
     */
    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void nonFiniteInputsGiveTheReferencesNonFiniteOutputs(float special) {
        AttentionShape s = new AttentionShape(1, 2, 2, 20, 40, 32);
        for (char where : new char[] {'q', 'k', 'v'}) {
            Inputs in = Inputs.random(s, 212, 1f);
            int at = (0 * 40 + 27) * 32 + 3;   // head 0, row 27 (a key row, and a query row for 'q' at row 7), element 3
            switch (where) {
                case 'q' -> in.q()[(0 * 20 + 7) * 32 + 3] = special;
                case 'k' -> in.k()[at] = special;
                default -> in.v()[at] = special;
            }
            AttentionProblem p = AttentionProblem.of(s).withMask(Mask.CAUSAL);
            float[] want = AttentionReference.compute(p, in.q(), in.k(), in.v());
            for (int split : new int[] {-1, 16}) for (FusedAttention op : new FusedAttention[] {standard, odd}) {
                float[] got = runPoisoned(op, p, in, split);   // 16: three splits of the 40 keys, merged
                double maxRef = 0, maxDiff = 0;
                for (float w : want) if (Float.isFinite(w)) maxRef = Math.max(maxRef, Math.abs(w));
                for (int e = 0; e < want.length; e++) {
                    String what = special + " in " + where + ", tile " + op.config().tiled() + ", split " + split + ", element " + e;
                    if (Float.isNaN(want[e])) assertTrue(Float.isNaN(got[e]), what + ": want NaN, got " + got[e]);
                    else if (Float.isInfinite(want[e])) assertEquals(want[e], got[e], what);
                    else {
                        assertTrue(Float.isFinite(got[e]), what + ": want " + want[e] + ", got " + got[e]);
                        maxDiff = Math.max(maxDiff, Math.abs((double) got[e] - want[e]));
                    }
                }
                assertTrue(maxDiff <= AttentionReference.FLOAT32_BOUND * maxRef, special + " in " + where + ": finite outputs off by " + maxDiff);
            }
        }
    }

    /**
     * Sub-group reductions asked of a device without sub-groups (PoCL's CPU device): the kernel builds its
     * local-memory trees instead and gives the same results within the bound.
     */
    @Test
    void subGroupsAskedWhereThereAreNoneFallBackToLocalMemoryTrees() {
        FusedAttention sg = new FusedAttention(device, standard.config().withTiled(new AttentionConfig.Tiled(16, 32, 16, true)));
        AttentionProblem p = AttentionProblem.of(new AttentionShape(1, 8, 2, 33, 70, 64)).withMask(Mask.CAUSAL);
        Inputs in = Inputs.random(p.shape(), 214, 2f);
        assertTrue(relativeError(AttentionReference.compute(p, in.q(), in.k(), in.v()), runPoisoned(sg, p, in)) <= AttentionReference.FLOAT32_BOUND);
    }

    /** Decode over a long cache: the keys are split across work-groups (flash-decoding) and attention_merge combines them. */
    @Test
    void decodeOverALongCacheSplitsTheKeysAndMerges() {
        AttentionShape s = new AttentionShape(1, 4, 2, 1, 8192, 128);
        assertTrue(standard.usesTiled(s));
        assertTrue(standard.splitSize(s) < s.kvLength(), "8192 keys of one query are split");
        check(AttentionProblem.of(s).withMask(Mask.CAUSAL.withKvLengths(new int[] {5001})), 215);
    }

    @Test
    void cpusKeepTheirKernelsAndTheTileAdaptsToTheHeadDimension() {
        assertNull(AttentionConfig.forDevice(device.info()).tiled(), "PoCL's CPU device keeps attention_fused(_rows) by default");
        assertNull(new FusedAttention(device).tileFor(new AttentionShape(1, 1, 1, 4, 4, 64)));
        AttentionConfig.Tiled t = new AttentionConfig.Tiled(16, 32, 16, false);
        assertEquals(32, t.fitted(128, 48 * 1024).keys(), "D = 128: 27 KiB, the whole key tile");
        assertEquals(16, t.fitted(256, 48 * 1024).keys(), "D = 256: the key tile halved to fit 48 KiB");
        assertNull(t.fitted(36, 48 * 1024), "36 is no multiple of 16 items a row: attention_fused");
        assertNull(t.fitted(256, 16 * 1024), "no key tile fits");
    }

    @Test
    void gpusDefaultToTheTiledKernelWithSubGroupsWhereTheyHaveThemAndPrebuildIt() {
        dev.offload.cl.DeviceInfo plain = dev.offload.testing.AsGpu.of(device.info(), java.util.Set.of());
        dev.offload.cl.DeviceInfo intel = dev.offload.testing.AsGpu.of(device.info(), java.util.Set.of("cl_intel_subgroups"));
        assertEquals(new AttentionConfig.Tiled(16, 32, 16, false), AttentionConfig.forDevice(plain).tiled());
        assertEquals(new AttentionConfig.Tiled(16, 32, 16, true), AttentionConfig.forDevice(intel).tiled());
        java.util.List<String> builds = FusedAttention.tiledBuildOptions(plain, dev.offload.device.KernelStyle.PORTABLE);
        // Every common head dimension (32 .. 256) in both layouts; D = 256 with the key tile halved to fit 48 KiB.
        assertEquals(2 * FusedAttention.COMMON_HEAD_DIMS.size(), builds.size(), builds.toString());
        assertTrue(builds.contains("-DHEAD_DIM=256 -DHALF_STORAGE=0 -DTILED_BR=16 -DTILED_BC=16 -DTILED_TR=16 -DTILED_SUBGROUPS=0"), builds.toString());
        assertTrue(FusedAttention.tiledBuildOptions(plain, dev.offload.device.KernelStyle.FPGA).isEmpty());
        assertTrue(FusedAttention.tiledBuildOptions(device.info(), dev.offload.device.KernelStyle.PORTABLE).isEmpty(), "CPUs: none");
    }

    @Test
    void theFpgaStyleKeepsTheSingleWorkItemKernels() {
        try (OpenClDevice fpga = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow())) {
            fpga.kernelStyle(dev.offload.device.KernelStyle.FPGA);
            FusedAttention op = new FusedAttention(fpga, standard.config());
            AttentionShape s = new AttentionShape(1, 2, 2, 7, 19, 32);
            assertNull(op.tileFor(s));
            AttentionProblem p = AttentionProblem.of(s).withMask(Mask.CAUSAL);
            Inputs in = Inputs.random(s, 213, 2f);
            assertTrue(relativeError(AttentionReference.compute(p, in.q(), in.k(), in.v()), runPoisoned(op, p, in)) <= AttentionReference.FLOAT32_BOUND);
        }
    }

    @Test
    void tunedEntriesFromBeforeTheTiledKernelStayReadable() {
        var old = new dev.offload.tuning.TunedEntry(AttentionConfig.OP, "d", "v",
                java.util.Map.of("itemsPerComputeUnit", 8, "minSplitKeys", 256, "maxDecodeKeysPerItem", 1024), null, null, null);
        AttentionConfig c = AttentionConfig.fromParams(old, device.info());
        assertEquals(new AttentionConfig(8, 256, 1024), c, "a CPU's old entry: no tile");
        AttentionConfig tiled = c.withTiled(new AttentionConfig.Tiled(8, 32, 32, true));
        var again = new dev.offload.tuning.TunedEntry(AttentionConfig.OP, "d", "v", tiled.toParams(), null, null, null);
        assertEquals(tiled, AttentionConfig.fromParams(again, device.info()));
        var off = new dev.offload.tuning.TunedEntry(AttentionConfig.OP, "d", "v", c.toParams(), null, null, null);
        assertNull(AttentionConfig.fromParams(off, device.info()).tiled());
    }
}
