package dev.offload.ops.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.SparseFormat;
import dev.offload.graph.SparseLinear;
import dev.offload.model.EncoderGraph;
import dev.offload.model.EncoderModel;
import dev.offload.model.ModelCatalog;
import dev.offload.model.onnx.EncoderImporter;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
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
        double e = GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", GraphFixtures.encoderInputs(2, 16, 3)), GraphFixtures.run(g, CL.pool(), "cl:cpu", GraphFixtures.encoderInputs(2, 16, 3)));
        assertTrue(e <= GRAPH_TOLERANCE, "pruned MiniLM on OpenCL vs java: error " + e);
    }
}
