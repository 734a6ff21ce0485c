package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.TensorType;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import dev.offload.tensor.DType;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Decode steps over a {@link KvCache}: a prefill of seq tokens, then single-token steps whose attention reads every
 * earlier token's K and V from the cache. Compared with the java run of the same steps and with recomputing the
 * whole sequence (a prefill of seq + steps tokens), whose last rows the steps must reproduce.
 */
class DecodeTest {
    static final SyntheticSpec SPEC = SyntheticSpec.parse("synthetic:arch=decoder,layers=2,hidden=64,heads=4,kv-heads=2,ffn=96,seq=7,batch=2,seed=9");
    static final int STEPS = 3;
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    /** The prefill's output, then each step's output [batch, 1, hidden]. */
    private static List<float[]> decode(String placement, Map<String, HostTensor> prompt, List<Map<String, HostTensor>> steps) {
        return decode(CL.pool(), placement, prompt, steps);
    }

    private static List<float[]> decode(DevicePool devices, String placement, Map<String, HostTensor> prompt, List<Map<String, HostTensor>> steps) {
        Graph prefill = SyntheticModel.build(SPEC), step = SyntheticModel.build(SPEC.withSeq(1));
        List<float[]> out = new ArrayList<>();
        try (GraphRuntime p = runtime(devices, prefill, placement); GraphRuntime s = runtime(devices, step, placement);
             KvCache cache = new KvCache(SPEC.seq() + steps.size())) {
            out.add(p.run(prompt, cache).output("final_norm").floats());
            for (Map<String, HostTensor> in : steps) out.add(s.run(in, cache).output("final_norm").floats());
            for (int l = 0; l < SPEC.layers(); l++) assertEquals(SPEC.seq() + steps.size(), cache.length("layer." + l + ".attn"));
            assertEquals(0, p.allocations().liveActivationBuffers() + s.allocations().liveActivationBuffers(), "activations leak");
        }
        return out;
    }

    private static GraphRuntime runtime(Graph g, String placement) { return runtime(CL.pool(), g, placement); }

    private static GraphRuntime runtime(DevicePool devices, Graph g, String placement) {
        GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse(placement), devices), OpImplementations.defaults(), false);
        rt.allocations().poisonNewBuffers(true);
        return rt;
    }

    /** Prompt ids followed by each step's id, per sequence: the input of the from-scratch prefill. */
    private static Map<String, HostTensor> wholeSequence(Map<String, HostTensor> prompt, List<Map<String, HostTensor>> steps) {
        int b = SPEC.batch(), s = SPEC.seq(), total = s + steps.size();
        int[] p = prompt.get("input_ids").ints(), ids = new int[b * total];
        for (int i = 0; i < b; i++) {
            System.arraycopy(p, i * s, ids, i * total, s);
            for (int k = 0; k < steps.size(); k++) ids[i * total + s + k] = steps.get(k).get("input_ids").ints()[i];
        }
        return Map.of("input_ids", HostTensor.of(TensorType.of(DType.INT32, b, total), ids));
    }

    /** Row {@code token} of every sequence of a [batch, tokens, hidden] output. */
    private static float[] rows(float[] x, int tokens, int token) {
        int h = SPEC.hidden();
        float[] out = new float[SPEC.batch() * h];
        for (int b = 0; b < SPEC.batch(); b++) System.arraycopy(x, (b * tokens + token) * h, out, b * h, h);
        return out;
    }

    @Test
    void decodeStepsOnOpenClMatchJavaAndRecomputingTheWholeSequence() {
        var prompt = SyntheticModel.inputs(SPEC, 21);
        var steps = SyntheticModel.decodeInputs(SPEC, STEPS, 22);
        List<float[]> cl = decode("cl:cpu", prompt, steps), java = decode("java", prompt, steps);
        int total = SPEC.seq() + STEPS;
        Graph whole = SyntheticModel.build(SPEC.withSeq(total));
        float[] full;
        try (GraphRuntime rt = runtime(whole, "java")) { full = rt.run(wholeSequence(prompt, steps)).output("final_norm").floats(); }
        for (int k = 0; k <= STEPS; k++) {
            double vsJava = GraphFixtures.relativeError(java.get(k), cl.get(k));
            assertTrue(vsJava <= GraphRuntimeTest.GRAPH_TOLERANCE, "step " + k + ": OpenCL vs java error " + vsJava);
        }
        for (int k = 1; k <= STEPS; k++) {
            float[] want = rows(full, total, SPEC.seq() + k - 1);
            double javaVsFull = GraphFixtures.relativeError(want, java.get(k)), clVsFull = GraphFixtures.relativeError(want, cl.get(k));
            assertTrue(javaVsFull <= GraphRuntimeTest.GRAPH_TOLERANCE, "step " + k + ": java incremental vs recomputed " + javaVsFull);
            assertTrue(clVsFull <= GraphRuntimeTest.GRAPH_TOLERANCE, "step " + k + ": OpenCL incremental vs recomputed " + clVsFull);
        }
    }

    private static void assertMatchesJava(List<float[]> java, List<float[]> got, String what) {
        for (int k = 0; k < java.size(); k++) {
            double e = GraphFixtures.relativeError(java.get(k), got.get(k));
            assertTrue(e <= GraphRuntimeTest.GRAPH_TOLERANCE, what + ", step " + k + ": error vs java " + e);
        }
    }

    @Test
    void decodeOnTheJoclBindingMatchesJava() {
        var prompt = SyntheticModel.inputs(SPEC, 41);
        var steps = SyntheticModel.decodeInputs(SPEC, STEPS, 42);
        try (OpenClDevice jocl = new OpenClDevice(DeviceRegistry.discover(Binding.JOCL).resolve("cl:cpu").orElseThrow())) {
            assertMatchesJava(decode("java", prompt, steps), decode(DevicePool.of(jocl), "cl:cpu", prompt, steps), "JOCL");
        }
    }

    @Test
    void mixedPlacementKeepsEachCacheWhereItsAttentionRuns() {
        // Attention (and so its KV cache) on java, everything else on OpenCL; then the reverse.
        var prompt = SyntheticModel.inputs(SPEC, 51);
        var steps = SyntheticModel.decodeInputs(SPEC, STEPS, 52);
        List<float[]> java = decode("java", prompt, steps);
        assertMatchesJava(java, decode("attention=java,*=cl:cpu", prompt, steps), "attention on java");
        assertMatchesJava(java, decode("attention=cl:cpu,*=java", prompt, steps), "attention on OpenCL");
    }

    @Test
    void aFullCacheRefusesAnotherStep() {
        Graph step = SyntheticModel.build(SPEC.withSeq(1));
        var in = SyntheticModel.decodeInputs(SPEC, 2, 3);
        try (GraphRuntime rt = runtime(step, "cl:cpu"); KvCache cache = new KvCache(1)) {
            rt.run(in.get(0), cache);
            var e = assertThrows(IllegalStateException.class, () -> rt.run(in.get(1), cache));
            assertTrue(e.getMessage().contains("larger capacity"), e.getMessage());
        }
    }

    @Test
    void microBatchesOnOneDeviceEqualTheUnsplitBatch() {
        SyntheticSpec spec = SPEC.withBatch(4);
        var in = SyntheticModel.inputs(spec, 31);
        GraphRuntime.Result whole = GraphFixtures.run(SyntheticModel.build(spec), CL.pool(), "cl:cpu", in);
        try (GraphRuntime rt = runtime(SyntheticModel.build(spec.withBatch(2)), "cl:cpu")) {
            GraphRuntime.Result split = rt.runMicroBatches(MicroBatches.split(in, 2), null);
            assertTrue(GraphFixtures.maxError(whole, split) <= 1e-6, "split vs whole " + GraphFixtures.maxError(whole, split));
            assertTrue(split.samples().stream().anyMatch(s -> s.microBatch() == 1));
        }
    }
}
