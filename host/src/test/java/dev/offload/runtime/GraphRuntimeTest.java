package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.ClException;
import dev.offload.device.ComputeDevice;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Add;
import dev.offload.graph.Graph;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.Node;
import dev.offload.profile.OpSample;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Whole graphs on PoCL and on mixed placements against the java reference run of the same graph.
 *
 * <p>Tolerance {@value #GRAPH_TOLERANCE} (normwise relative): the OpenCL norms round differently from the double
 * reference (~1e-6), and where such a difference moves a value across an int8 rounding boundary the next linear sees
 * one quantization step (max|x|/127) on one element; over a few layers that stays far below 1e-3 (measured:
 * ~1e-6 typically, the bound leaves room for an unlucky flip).
 */
class GraphRuntimeTest {
    static final double GRAPH_TOLERANCE = 5e-3;
    static final SyntheticSpec DECODER = SyntheticSpec.parse("synthetic:arch=decoder,layers=2,hidden=64,heads=4,kv-heads=2,ffn=96,seq=7,batch=2,seed=5");
    static final SyntheticSpec ENCODER = SyntheticSpec.parse("synthetic:arch=encoder,layers=2,hidden=48,heads=3,ffn=80,seq=11,batch=3,seed=6");
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static void assertMatchesJava(SyntheticSpec spec, String placement, long inputSeed) {
        Graph g = SyntheticModel.build(spec);
        var in = SyntheticModel.inputs(spec, inputSeed);
        GraphRuntime.Result got = GraphFixtures.run(g, CL.pool(), placement, in);
        double e = GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", in), got);
        assertTrue(e <= GRAPH_TOLERANCE, spec + " on " + placement + ": error " + e);
    }

    @Test
    void decoderOnOpenClMatchesJavaReference() { assertMatchesJava(DECODER, "cl:cpu", 1); }

    @Test
    void encoderOnOpenClMatchesJavaReference() { assertMatchesJava(ENCODER, "cl:cpu", 2); }

    @Test
    void mixedPlacementMovesTensorsBetweenJavaAndOpenCl() {
        assertMatchesJava(ENCODER, "layer_norm=java,layer.1.attn.residual=java,*=cl:cpu", 3);
        Graph g = SyntheticModel.build(ENCODER);
        GraphRuntime.Result r = GraphFixtures.run(g, CL.pool(), "layer_norm=java,*=cl:cpu", SyntheticModel.inputs(ENCODER, 3));
        assertTrue(r.samples().stream().anyMatch(OpSample::isTransfer), "a device change must insert transfers");
        assertTrue(r.samples().stream().filter(s -> s.opKind().equals("layer_norm")).allMatch(s -> s.device().equals("java") && !s.isFallback()));
    }

    @Test
    void activationsStayOnTheDeviceBetweenConsecutiveOps() {
        Graph g = SyntheticModel.build(DECODER);
        GraphRuntime.Result r = GraphFixtures.run(g, CL.pool(), "cl:cpu", SyntheticModel.inputs(DECODER, 4));
        // rms_norm -> (java quantize) and add -> add chains: a residual add reading two device tensors needs no transfer.
        long uploadsOfResidualInputs = r.samples().stream().filter(s -> s.node().equals("transfer:layer.0.attn.residual")).count();
        assertEquals(0, uploadsOfResidualInputs, "an add output consumed on the same device must not be copied");
        assertTrue(r.samples().stream().filter(s -> s.opKind().equals("attention"))
                .allMatch(s -> s.device().equals(CL.device().spec()) && !s.isFallback() && s.deviceNs() > 0), "attention runs its OpenCL kernel");
    }

    @Test
    void sparseModelRunsAndMatches() {
        assertMatchesJava(SyntheticSpec.parse("synthetic:arch=decoder,layers=1,hidden=32,heads=2,kv-heads=1,ffn=48,seq=5,batch=2,sparsity=2:4"), "cl:cpu", 5);
        assertMatchesJava(SyntheticSpec.parse("synthetic:arch=encoder,layers=1,hidden=32,heads=2,ffn=48,seq=5,batch=2,sparsity=0.9"), "cl:cpu", 6);
    }

    @Test
    void joclBindingRunsTheDecoderLikePanama() {
        try (OpenClDevice jocl = new OpenClDevice(DeviceRegistry.discover(Binding.JOCL).resolve("cl:cpu").orElseThrow())) {
            Graph g = SyntheticModel.build(DECODER);
            var in = SyntheticModel.inputs(DECODER, 7);
            double e = GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", in), GraphFixtures.run(g, DevicePool.of(jocl), "cl:cpu", in));
            assertTrue(e <= GRAPH_TOLERANCE, "jocl error " + e);
        }
    }

    /** An implementation that fails like a broken device: a build failure on prepare, or out of resources on launch. */
    static final class FailingImplementation implements OpImplementation {
        final AtomicInteger calls = new AtomicInteger();
        final boolean atLaunch;

        FailingImplementation(boolean atLaunch) { this.atLaunch = atLaunch; }

        @Override
        public Prepared prepare(Graph graph, Node node, ComputeDevice d, ResidentWeights weights) {
            calls.incrementAndGet();
            if (!atLaunch) throw new ClException("clBuildProgram", -11, "injected build failure", "error: injected");
            return (in, ctx) -> { throw new ClException("clEnqueueNDRangeKernel", -5, "injected", null); };
        }
    }

    @Test
    void aFailingKernelIsRePlacedOnJavaAndTheRunStillMatches() {
        Graph g = SyntheticModel.build(ENCODER);
        var in = SyntheticModel.inputs(ENCODER, 8);
        GraphRuntime.Result want = GraphFixtures.run(g, CL.pool(), "java", in);
        for (boolean atLaunch : new boolean[] {false, true}) {
            FailingImplementation failing = new FailingImplementation(atLaunch);
            OpImplementations impls = OpImplementations.defaults().with(LayerNorm.class, Backend.OPENCL, failing);
            try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("cl:cpu"), CL.pool()), impls, false)) {
                GraphRuntime.Result first = rt.run(in);
                GraphRuntime.Result second = rt.run(in);
                assertTrue(GraphFixtures.maxError(want, first) <= GRAPH_TOLERANCE);
                assertTrue(GraphFixtures.maxError(want, second) <= GRAPH_TOLERANCE);
                List<OpSample> norms = second.samples().stream().filter(s -> s.opKind().equals("layer_norm")).toList();
                assertFalse(norms.isEmpty());
                for (OpSample s : norms) {
                    assertEquals("java", s.device());
                    assertTrue(s.fallback().contains(atLaunch ? "CL_OUT_OF_RESOURCES" : "CL_BUILD_PROGRAM_FAILURE"), s.fallback());
                }
                // Broken nodes are remembered: the failing implementation is not retried on the second run.
                assertEquals(norms.size(), failing.calls.get());
            }
        }
    }

    /** Head dimensions the fused kernels cannot hold (above 256, or not a multiple of 4) run on java, as the README says. */
    @Test
    void aHeadTheAttentionKernelsCannotHoldFallsBackToJavaWithTheReason() {
        for (String shape : new String[] {"hidden=600,heads=2", "hidden=12,heads=2"}) {
            SyntheticSpec spec = SyntheticSpec.parse("synthetic:arch=encoder,layers=1," + shape + ",ffn=32,seq=5,batch=2,seed=3");
            Graph g = SyntheticModel.build(spec);
            var in = SyntheticModel.inputs(spec, 4);
            GraphRuntime.Result got = GraphFixtures.run(g, CL.pool(), "cl:cpu", in);
            assertTrue(GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", in), got) <= GRAPH_TOLERANCE, shape);
            List<OpSample> attention = got.samples().stream().filter(s -> s.opKind().equals("attention")).toList();
            assertEquals(1, attention.size());
            assertEquals("java", attention.getFirst().device());
            assertTrue(attention.getFirst().fallback().contains("cannot run: head dimension " + spec.headDim()), attention.getFirst().fallback());
            assertTrue(got.samples().stream().anyMatch(s -> s.opKind().equals("linear") && s.device().startsWith("cl:")), "the rest stays on OpenCL");
        }
    }

    @Test
    void strictTurnsAFallbackIntoAnError() {
        Graph g = SyntheticModel.build(ENCODER);
        var in = SyntheticModel.inputs(ENCODER, 9);
        OpImplementations impls = OpImplementations.defaults().with(LayerNorm.class, Backend.OPENCL, new FailingImplementation(false));
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("quantize=java,linear=java,attention=java,*=cl:cpu"), CL.pool()), impls, true)) {
            var e = assertThrows(GraphRuntime.FallbackRefused.class, () -> rt.run(in));
            assertTrue(e.getMessage().contains("layer_norm"), e.getMessage());
        }
        // A kind with no OpenCL kernel at all, placed on OpenCL, is a fallback too.
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("cl:cpu"), CL.pool()),
                OpImplementations.defaults().without(Add.class, Backend.OPENCL), true)) {
            var e = assertThrows(GraphRuntime.FallbackRefused.class, () -> rt.run(in));
            assertTrue(e.getMessage().contains("no OpenCL kernel for"), e.getMessage());
        }
    }

    @Test
    void concurrentRequestsEachGetTheirOwnCorrectResult() throws Exception {
        Graph g = SyntheticModel.build(DECODER);
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("rms_norm=java,*=cl:cpu"), CL.pool()), OpImplementations.defaults(), false);
             GraphRuntime ref = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("java"), CL.pool()), OpImplementations.defaults(), false);
             ExecutorService threads = Executors.newFixedThreadPool(4)) {
            List<Future<Double>> errors = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                final int thread = t;
                errors.add(threads.submit(() -> {
                    double worst = 0;
                    for (int r = 0; r < 3; r++) {
                        var in = SyntheticModel.inputs(DECODER, 100 + thread * 10 + r);
                        worst = Math.max(worst, GraphFixtures.maxError(ref.run(in), rt.run(in)));
                    }
                    return worst;
                }));
            }
            for (Future<Double> f : errors) assertTrue(f.get() <= GRAPH_TOLERANCE, "error " + f.get());
            assertEquals(0, rt.allocations().liveActivationBuffers());
            assertEquals(0, rt.allocations().liveEvents());
        }
    }

    @Test
    void aLongRunReleasesEveryActivationBufferAndEvent() {
        SyntheticSpec tiny = SyntheticSpec.parse("synthetic:arch=encoder,layers=1,hidden=16,heads=2,ffn=16,seq=3,batch=1");
        Graph g = SyntheticModel.build(tiny);
        var in = SyntheticModel.inputs(tiny, 1);
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("linear=java,*=cl:cpu"), CL.pool()), OpImplementations.defaults(), false)) {
            long peak = 0, pooledAfterFirst = -1;
            for (int i = 0; i < 200; i++) {
                rt.run(in);
                peak = Math.max(peak, rt.allocations().liveActivationBuffers() + rt.allocations().liveEvents());
                if (i == 0) pooledAfterFirst = rt.allocations().pooledBytes();
            }
            assertEquals(0, peak, "buffers or events left open after a run");
            assertEquals(0, rt.allocations().liveActivationBytes());
            // Released buffers are reused, not piled up: the pool holds the first run's working set, no more.
            assertTrue(pooledAfterFirst > 0, "released buffers are kept for reuse");
            assertEquals(pooledAfterFirst, rt.allocations().pooledBytes(), "the buffer pool grew over a long run");
        }
    }

    @Test
    void inputsAreCheckedBeforeARun() {
        Graph g = SyntheticModel.build(DECODER);
        var in = new java.util.HashMap<>(SyntheticModel.inputs(DECODER, 1));
        in.get("input_ids").ints()[3] = DECODER.vocab();
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("java"), CL.pool()), OpImplementations.defaults(), false)) {
            var e = assertThrows(IllegalArgumentException.class, () -> rt.run(in));
            assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> rt.run(Map.of()));
        }
    }
}
