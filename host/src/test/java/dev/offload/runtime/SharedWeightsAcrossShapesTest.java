package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Attention;
import dev.offload.graph.Embedding;
import dev.offload.graph.Graph;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.Int8LinearGroup;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.LayerNormQuantize;
import dev.offload.graph.MeanPool;
import dev.offload.graph.Node;
import dev.offload.model.EncoderGraph;
import dev.offload.model.EncoderModel;
import dev.offload.model.ModelCatalog;
import dev.offload.model.TokenBatch;
import dev.offload.model.onnx.EncoderImporter;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.PackedWeights;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.testing.GraphFixtures;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MiniLM's encoder graph at three shapes through runtimes that share one {@link ResidentWeights}: the weights are on
 * the device once (the bytes of the first shape, which are the model's weights as packed), the outputs are those of
 * runtimes with weights of their own, closing every runtime frees every weight, and a long run grows nothing.
 */
class SharedWeightsAcrossShapesTest {
    static final int[][] SHAPES = {{1, 16}, {2, 32}, {4, 48}};
    static OpenClDevice device;
    static DevicePool pool;
    static EncoderModel model;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        pool = DevicePool.of(device);
        ModelCatalog m = ModelCatalog.ALL_MINILM_L6_V2_Q;
        model = EncoderImporter.importBytes(m.onnxBytes(), m.onnxEntry);
    }

    @AfterAll
    static void close() { device.close(); }

    private static Graph graph(int[] shape) { return EncoderGraph.build(model, shape[0], shape[1], null); }

    private static ExecutionPlan plan(Graph g) { return ExecutionPlan.of(g, Placement.parse(device.spec()), pool); }


    /**
     * The bytes the graph's weights take on the device, counted from the graph itself: each distinct host array once,
     * each int8 linear weight as Int8Gemm packs it, and one 4-byte placeholder for absent kernel arguments.
     */
    private static ResidentWeights.Usage expected(Graph g) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        long bytes = 0;
        int buffers = 0;
        boolean placeholder = false;
        Int8Gemm gemm = Int8Gemm.on(device);
        for (Node n : g.nodes()) {
            List<Object> arrays = new ArrayList<>();
            switch (n.op()) {
                case Embedding e -> arrays.addAll(e.quantized() ? List.of(e.int8Table(), e.rowScales()) : List.of(e.table()));
                case LayerNorm l -> { arrays.add(l.gamma()); if (l.beta() != null) arrays.add(l.beta()); else placeholder = true; }
                case Attention a -> placeholder |= a.onnxRuntime();
                case MeanPool p -> placeholder = true;
                case LayerNormQuantize q -> {
                    arrays.add(q.norm().gamma());
                    if (q.norm().beta() != null) arrays.add(q.norm().beta()); else placeholder = true;
                }
                case Int8Linear l -> {
                    ResidentWeights.Usage u = linear(gemm, l, seen, arrays);
                    bytes += u.bytes();
                    buffers += u.buffers();
                }
                case Int8LinearGroup group -> {
                    for (Int8Linear l : group.parts()) {
                        ResidentWeights.Usage u = linear(gemm, l, seen, arrays);
                        bytes += u.bytes();
                        buffers += u.buffers();
                    }
                }
                default -> { }
            }
            for (Object a : arrays) {
                if (!seen.add(a)) continue;
                bytes += switch (a) {
                    case float[] f -> 4L * f.length;
                    case byte[] b -> b.length;
                    default -> throw new AssertionError(a.getClass());
                };
                buffers++;
            }
        }
        if (placeholder) { bytes += 4; buffers++; }
        return new ResidentWeights.Usage(bytes, buffers);
    }

    /**
     * An int8 linear's packed weight (packed B, zero points, column sums: 3 buffers) the first time its array is seen;
     * its scales and bias go to {@code arrays}, counted with the other host arrays.
     */
    private static ResidentWeights.Usage linear(Int8Gemm gemm, Int8Linear l, Set<Object> seen, List<Object> arrays) {
        arrays.add(l.weightScales());
        if (l.bias() != null) arrays.add(l.bias());
        if (!seen.add(l.weight())) return new ResidentWeights.Usage(0, 0);
        int[] zp = new int[l.outFeatures()];
        if (l.weightZeroPoints() != null) for (int j = 0; j < zp.length; j++) zp[j] = l.weightZeroPoints()[j];
        try (PackedWeights w = gemm.pack(new Int8Matrix(QuantType.INT8, l.inFeatures(), l.outFeatures(), l.weight()),
                l.weightZeroPoints() == null ? ZeroPoint.scalar(0) : ZeroPoint.perColumn(zp))) {
            return new ResidentWeights.Usage(w.packed().size() + w.zeroPoints().size() + w.columnSums().size(), 3);
        }
    }

    @Test
    void threeShapesHoldTheWeightsOnceRunLikeSeparateRuntimesAndFreeEverythingOnClose() {
        List<Graph> graphs = new ArrayList<>();
        for (int[] s : SHAPES) graphs.add(graph(s));
        ResidentWeights.Usage want = expected(graphs.getFirst());
        System.out.printf("MiniLM weights as packed for %s: %d bytes in %d buffers (the graph's host weights: %d bytes)%n",
                device.spec(), want.bytes(), want.buffers(), graphs.getFirst().weightBytes());

        try (ResidentWeights store = new ResidentWeights()) {
            List<GraphRuntime> shared = new ArrayList<>();
            try {
                for (int i = 0; i < SHAPES.length; i++) {
                    GraphRuntime rt = new GraphRuntime(plan(graphs.get(i)), OpImplementations.defaults(), true, store);
                    shared.add(rt);
                    Map<String, HostTensor> in = GraphFixtures.encoderInputs(SHAPES[i][0], SHAPES[i][1], 40 + i);
                    GraphRuntime.Result got = rt.run(in);
                    assertEquals(want, store.usage(device), "after shape " + SHAPES[i][0] + "x" + SHAPES[i][1]
                            + ": the device holds the model's weights once");
                    try (GraphRuntime alone = new GraphRuntime(plan(graphs.get(i)), OpImplementations.defaults(), true)) {
                        GraphRuntime.Result ref = alone.run(in);
                        assertEquals(want, alone.weights().usage(device), "a runtime of its own holds the same bytes");
                        for (String name : ref.outputs().keySet()) {
                            assertArrayEquals(ref.output(name).floats(), got.output(name).floats(),
                                    name + " at " + SHAPES[i][0] + "x" + SHAPES[i][1] + ": shared weights must give the same bits");
                        }
                    }
                    assertEquals(want, store.usage(device), "closing a separate runtime leaves the shared store alone");
                }

                // A long run over all three shapes: resident weights stay, activations return to zero, the pool is bounded.
                long pooledAfterFirstRound = -1;
                for (int r = 0; r < 200; r++) {
                    int i = r % SHAPES.length;
                    shared.get(i).run(GraphFixtures.encoderInputs(SHAPES[i][0], SHAPES[i][1], r));
                    assertEquals(want, store.usage(device), "run " + r);
                    for (GraphRuntime rt : shared) {
                        assertEquals(0, rt.allocations().liveActivationBytes(), "run " + r + ": live activations");
                        assertEquals(0, rt.allocations().liveEvents(), "run " + r + ": live events");
                    }
                    long pooled = shared.stream().mapToLong(rt -> rt.allocations().pooledBytes()).sum();
                    if (r == SHAPES.length - 1) pooledAfterFirstRound = pooled;
                    if (r >= SHAPES.length) assertEquals(pooledAfterFirstRound, pooled, "run " + r + ": pooled activation bytes grew");
                }
            } finally {
                for (GraphRuntime rt : shared) rt.close();
            }
            assertEquals(new ResidentWeights.Usage(0, 0), store.usage(device), "every runtime closed: nothing resident");
            assertTrue(store.bytesByDevice().values().stream().allMatch(b -> b == 0));
        }
    }

    @Test
    void everyShapesGraphReferencesTheSameHostArrays() {
        EncoderGraph.Prune prune = EncoderGraph.Prune.parse("2:4");
        for (EncoderGraph.Prune p : java.util.Arrays.asList(null, prune)) {
            Graph a = EncoderGraph.build(model, 1, 16, p);
            Graph b = EncoderGraph.build(model, 4, 48, p);
            assertEquals(a.nodes().size(), b.nodes().size());
            int linears = 0;
            for (int i = 0; i < a.nodes().size(); i++) {
                Object x = a.nodes().get(i).op(), y = b.nodes().get(i).op();
                switch (x) {
                    case Int8Linear l -> { assertTrue(l.weight() == ((Int8Linear) y).weight() && l.weightScales() == ((Int8Linear) y).weightScales()); linears++; }
                    case dev.offload.graph.SparseLinear l -> {
                        assertTrue(l.weight() == ((dev.offload.graph.SparseLinear) y).weight(), "pruned once per model weight, not per graph");
                        linears++;
                    }
                    case Embedding e -> assertTrue(e.table() == ((Embedding) y).table());
                    case Int8LinearGroup g -> {
                        for (int j = 0; j < g.parts().size(); j++) {
                            Int8Linear l = g.parts().get(j), m = ((Int8LinearGroup) y).parts().get(j);
                            assertTrue(l.weight() == m.weight() && l.weightScales() == m.weightScales());
                            linears++;
                        }
                    }
                    case LayerNorm l -> assertTrue(l.gamma() == ((LayerNorm) y).gamma() && l.beta() == ((LayerNorm) y).beta());
                    case LayerNormQuantize q -> assertTrue(q.norm().gamma() == ((LayerNormQuantize) y).norm().gamma()
                            && q.norm().beta() == ((LayerNormQuantize) y).norm().beta());
                    default -> { }
                }
            }
            assertEquals(36, linears, "MiniLM's six layers of six linears");
        }
    }

    @Test
    void theEncoderRunnerSharesOneCopyAcrossShapesAndReportsItInTheProfile() {
        try (dev.offload.session.GraphEncoder runner = new dev.offload.session.GraphEncoder(model, null, pool,
                PlacementSpec.device(device.spec()), true, true, System.err)) {
            Map<String, Long> first = null;
            for (int[] s : SHAPES) {
                int batch = s[0], len = s[1];
                long[] ids = new long[batch * len], types = new long[batch * len], mask = new long[batch * len];
                for (int i = 0; i < ids.length; i++) { ids[i] = 1000 + i; mask[i] = 1; }
                runner.lastHiddenState(new TokenBatch(batch, len, ids, mask, types));
                Map<String, Long> resident = runner.profile(batch, len).meta().residentWeightBytes();
                if (first == null) first = resident;
                assertEquals(first, resident, "resident weight bytes after " + batch + "x" + len);
            }
            assertEquals(expected(graph(SHAPES[0])).bytes(), first.get(device.spec()));
        }
    }
}
