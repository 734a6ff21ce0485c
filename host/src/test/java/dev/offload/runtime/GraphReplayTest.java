package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Graph;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import dev.offload.testing.CpuDeviceFixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Record once, replay ({@link GraphRuntime#replayLaunches}): the same graphs run recorded and unrecorded give the
 * same bits, run after run and for new inputs; a decode step's causal attention runs plainly between replayed
 * segments and follows the KV cache's length; a device that cannot record (JOCL reports cl_khr_command_buffer
 * unsupported) runs plainly with the same bits.
 */
class GraphReplayTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();
    static final SyntheticSpec ENCODER = SyntheticSpec.parse("synthetic:arch=encoder,layers=2,hidden=64,heads=2,kv-heads=2,ffn=128,seq=5,batch=2,seed=3");
    static final SyntheticSpec DECODER = SyntheticSpec.parse("synthetic:arch=decoder,layers=2,hidden=64,heads=4,kv-heads=2,ffn=96,seq=6,batch=2,seed=9");

    private static GraphRuntime runtime(DevicePool pool, Graph g, boolean replay) {
        GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("cl:cpu"), pool),
                OpImplementations.defaults(), false);
        rt.allocations().poisonNewBuffers(true);   // an element a replay left unwritten would show as NaN
        return rt.replayLaunches(replay);
    }

    private static List<float[]> encode(DevicePool pool, boolean replay, List<String> status) {
        Graph g = SyntheticModel.build(ENCODER);
        List<float[]> out = new ArrayList<>();
        GraphRuntime rt = runtime(pool, g, replay);
        try {
            for (int seed : new int[] {11, 12, 11, 13}) {
                out.add(rt.run(SyntheticModel.inputs(ENCODER, seed)).output(g.outputs().getFirst().name()).floats());
                assertEquals(0, rt.allocations().liveActivationBuffers(), "live activations between runs");
                assertEquals(0, rt.allocations().liveEvents(), "live events between runs");
            }
            status.add(rt.replayStatus());
            if (rt.replays()) assertTrue(rt.allocations().recordedBuffers() > 0);
        } finally {
            rt.close();
        }
        assertEquals(0, rt.allocations().recordedBuffers(), "a closed runtime holds no recording");
        return out;
    }

    @Test
    void aRecordingReusesTheBuffersOfReleasedTensors() {
        assumeTrue(CL.device().device().commandBuffersUnsupported() == null, "the device cannot record command buffers");
        Graph g = SyntheticModel.build(ENCODER);
        long every = 0;
        for (var n : g.nodes()) for (String out : n.outputs()) every += g.tensor(out).type().bytes();
        GraphRuntime rt = runtime(CL.pool(), g, true);
        try {
            rt.run(SyntheticModel.inputs(ENCODER, 11));
            assertTrue(rt.replays(), rt.replayStatus());
            long held = rt.allocations().recordedBytes();
            assertTrue(held > 0 && held < every / 2, "the recording holds " + held + " bytes; the run's tensors take " + every);
        } finally {
            rt.close();
        }
    }

    @Test
    void aRecordedEncoderReplaysTheSameBitsAsPlainRuns() {
        assumeTrue(CL.device().device().commandBuffersUnsupported() == null, "the device cannot record command buffers");
        List<String> status = new ArrayList<>();
        List<float[]> plain = encode(CL.pool(), false, status), replayed = encode(CL.pool(), true, status);
        assertTrue(status.get(0).startsWith("plain: replay is off"), status.get(0));
        assertTrue(status.get(1).startsWith("replaying "), status.get(1));
        for (int i = 0; i < plain.size(); i++) assertArrayEquals(plain.get(i), replayed.get(i), "run " + i);
        assertFalse(java.util.Arrays.equals(plain.get(0), plain.get(1)), "different inputs give different outputs");
    }

    /** Prefill, then {@code steps} one-token steps on a KV cache: each run's output. */
    private static List<float[]> decode(DevicePool pool, boolean replay, int steps, List<String> status) {
        Graph prefill = SyntheticModel.build(DECODER), step = SyntheticModel.build(DECODER.withSeq(1));
        String out = step.outputs().getFirst().name();
        List<float[]> outs = new ArrayList<>();
        try (GraphRuntime p = runtime(pool, prefill, false); GraphRuntime s = runtime(pool, step, replay);
             KvCache cache = new KvCache(DECODER.seq() + steps)) {
            outs.add(p.run(SyntheticModel.inputs(DECODER, 21), cache).output(out).floats());
            for (Map<String, HostTensor> in : SyntheticModel.decodeInputs(DECODER, steps, 22)) {
                GraphRuntime.Result r = s.run(in, cache);
                outs.add(r.output(out).floats());
                assertEquals(0, s.allocations().liveActivationBuffers(), "live activations between steps");
            }
            for (int l = 0; l < DECODER.layers(); l++) assertEquals(DECODER.seq() + steps, cache.length("layer." + l + ".attn"));
            status.add(s.replayStatus());
        }
        return outs;
    }

    @Test
    void aDecodeStepReplaysWholeAttentionOverItsCacheIncludedWithTheSameBits() {
        assumeTrue(CL.device().device().commandBuffersUnsupported() == null, "the device cannot record command buffers");
        List<String> status = new ArrayList<>();
        List<float[]> plain = decode(CL.pool(), false, 5, status), replayed = decode(CL.pool(), true, 5, status);
        assertTrue(status.get(1).startsWith("replaying ") && status.get(1).contains(" in 1 segment(s), 0 node(s) enqueued plainly"), status.get(1));
        for (int i = 0; i < plain.size(); i++) assertArrayEquals(plain.get(i), replayed.get(i), "run " + i + " (0: prefill)");
    }

    /**
     * A recorded decode step reads its request's cache buffers: a second live request's steps run plainly (with their
     * own cache, the same bits as alone), a full cache is refused with replay still on, and closing the recorded
     * request's cache drops the recording, so that the next request records anew.
     */
    @Test
    void aRecordedDecodeStepBelongsToTheCacheItWasRecordedWith() {
        assumeTrue(CL.device().device().commandBuffersUnsupported() == null, "the device cannot record command buffers");
        List<float[]> alone = decode(CL.pool(), false, 3, new ArrayList<>());
        Graph prefill = SyntheticModel.build(DECODER), step = SyntheticModel.build(DECODER.withSeq(1));
        String out = step.outputs().getFirst().name();
        List<Map<String, HostTensor>> tokens = SyntheticModel.decodeInputs(DECODER, 3, 22);
        try (GraphRuntime p = runtime(CL.pool(), prefill, false); GraphRuntime s = runtime(CL.pool(), step, true)) {
            KvCache first = new KvCache(DECODER.seq() + 2), second = new KvCache(DECODER.seq() + 3);
            try (second) {
                p.run(SyntheticModel.inputs(DECODER, 21), first);
                p.run(SyntheticModel.inputs(DECODER, 21), second);
                for (int t = 0; t < 2; t++) {
                    assertArrayEquals(alone.get(t + 1), s.run(tokens.get(t), first).output(out).floats(), "first request, step " + t);
                    assertTrue(s.replayStatus().startsWith("replaying "), s.replayStatus());
                    assertArrayEquals(alone.get(t + 1), s.run(tokens.get(t), second).output(out).floats(), "second request, step " + t);
                }
                // first is full: refused before anything is enqueued, and the recording stays.
                KvCache.NoRoom full = assertThrows(KvCache.NoRoom.class, () -> s.run(tokens.get(2), first));
                assertTrue(full.getMessage().contains("cannot take 1 more"), full.getMessage());
                assertTrue(s.replayStatus().startsWith("replaying "), s.replayStatus());
                first.close();
                assertTrue(s.replayStatus().startsWith("plain: the KV cache of the recorded decode steps closed"), s.replayStatus());
                assertArrayEquals(alone.get(3), s.run(tokens.get(2), second).output(out).floats(), "second request, step 2 (records)");
                assertTrue(s.replayStatus().startsWith("replaying "), s.replayStatus());
            } finally {
                first.close();
            }
        }
    }

    @Test
    void aDeviceWithoutCommandBuffersRunsPlainlyWithTheSameBits() {
        try (OpenClDevice jocl = new OpenClDevice(DeviceRegistry.discover(Binding.JOCL).resolve("cl:cpu").orElseThrow())) {
            DevicePool pool = DevicePool.of(jocl);
            String why = jocl.device().commandBuffersUnsupported();
            assertTrue(why != null && why.contains("JOCL"), String.valueOf(why));
            List<String> status = new ArrayList<>();
            List<float[]> asked = encode(pool, true, status), plain = encode(pool, false, status);
            assertEquals("plain: " + why, status.get(0));
            for (int i = 0; i < plain.size(); i++) assertArrayEquals(plain.get(i), asked.get(i), "run " + i);
            List<float[]> steps = decode(pool, true, 2, status);
            assertEquals("plain: " + why, status.get(2));
            assertEquals(3, steps.size());
        }
    }
}
