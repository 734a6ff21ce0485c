package dev.offload.ops.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.SparseFormat;
import dev.offload.graph.SparseLinear;
import dev.offload.graph.TensorType;
import dev.offload.model.EncoderGraph;
import dev.offload.model.EncoderModel;
import dev.offload.model.ModelCatalog;
import dev.offload.model.onnx.EncoderImporter;
import dev.offload.runtime.HostTensor;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import dev.offload.tensor.DType;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Whole encoders whose linears are block-sparse run through bsr_linear.cl on OpenCL and agree with the java reference
 * of the same graph (within the graph tolerance of GraphRuntimeTest: the norms round differently, the linears do not).
 */
class BsrEncoderTest {
    /** GraphRuntimeTest's bound for whole graphs on OpenCL against java. */
    static final double GRAPH_TOLERANCE = 5e-3;
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    @Test
    void aSyntheticEncoderWithBsrLinearsMatchesJava() {
        for (String format : new String[] {"bsr:16x4", "bsr:32x4"}) {
            SyntheticSpec spec = SyntheticSpec.parse("synthetic:arch=encoder,layers=2,hidden=48,heads=3,ffn=80,seq=11,batch=3,sparsity=0.8,format="
                    + format + ",seed=6");
            Graph g = SyntheticModel.build(spec);
            var in = SyntheticModel.inputs(spec, 2);
            double e = GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", in), GraphFixtures.run(g, CL.pool(), "cl:cpu", in));
            assertTrue(e <= GRAPH_TOLERANCE, spec + ": error " + e);
        }
    }

    @Test
    void miniLmPrunedInWholeBlocksKeepsThePatternAndMatchesJava() {
        ModelCatalog m = ModelCatalog.ALL_MINILM_L6_V2_Q;
        EncoderModel model = EncoderImporter.importBytes(m.onnxBytes(), m.onnxEntry);
        // run --prune bsr:0.8: the default block, 32 x 4.
        EncoderGraph.Prune prune = EncoderGraph.Prune.parse("bsr:0.8");
        SparseFormat format = SparseFormat.parse("bsr:32x4");
        assertEquals(new EncoderGraph.Prune(format, 0.8), prune);
        Graph g = EncoderGraph.build(model, 2, 16, prune);
        int linears = 0;
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof SparseLinear l)) continue;
            linears++;
            assertEquals(format, l.format());
            // Every block row of W^T keeps round(0.2 * K/4) whole 32 x 4 blocks: exactly that many stored blocks.
            BsrMatrix s = BsrLinear.layout(l.weight(), l.inFeatures(), l.outFeatures(), format);
            int keep = (int) Math.round(0.2 * (l.inFeatures() / 4));
            for (int br = 0; br + 1 < s.blockRowPtr().length; br++) {
                assertEquals(keep, s.blockRowPtr()[br + 1] - s.blockRowPtr()[br], l.describe() + " block row " + br);
            }
        }
        assertEquals(36, linears, "MiniLM's six layers of six linears");
        double e = GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", inputs(2, 16)), GraphFixtures.run(g, CL.pool(), "cl:cpu", inputs(2, 16)));
        assertTrue(e <= GRAPH_TOLERANCE, "pruned MiniLM on OpenCL vs java: error " + e);
    }

    private static Map<String, HostTensor> inputs(int batch, int seq) {
        Random r = new Random(3);
        int[] ids = new int[batch * seq], types = new int[batch * seq], lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = Math.max(2, seq - r.nextInt(seq / 2));
            for (int t = 0; t < seq; t++) ids[b * seq + t] = t < lengths[b] ? 1000 + r.nextInt(20000) : 0;
            ids[b * seq] = 101;
        }
        return Map.of(EncoderGraph.IDS, HostTensor.of(TensorType.of(DType.INT32, batch, seq), ids),
                EncoderGraph.TYPES, HostTensor.of(TensorType.of(DType.INT32, batch, seq), types),
                EncoderGraph.LENGTHS, HostTensor.of(TensorType.of(DType.INT32, batch), lengths));
    }
}
