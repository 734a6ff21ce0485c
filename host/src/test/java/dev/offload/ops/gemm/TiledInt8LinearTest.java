package dev.offload.ops.gemm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.graph.Graph;
import dev.offload.graph.Int8Linear;
import dev.offload.runtime.Backend;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import dev.offload.tuning.TuningStore;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The graph runtime's int8 linears on the tiled family (what a GPU gets by default), here forced onto PoCL: the
 * quantize node's device-side scales and zero points feed int8_gemm_tiled's dequantize epilogue, and the encoder
 * agrees with the java reference of the same graph.
 */
class TiledInt8LinearTest {
    /** GraphRuntimeTest's bound for whole graphs on OpenCL against java (the norms round differently, the linears do not). */
    static final double GRAPH_TOLERANCE = 5e-3;
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    @Test
    void anEncoderWhoseLinearsRunTiledMatchesJava() {
        SyntheticSpec spec = SyntheticSpec.parse("synthetic:arch=encoder,layers=2,hidden=48,heads=3,ffn=80,seq=11,batch=3,seed=4");
        Graph g = SyntheticModel.build(spec);
        var in = SyntheticModel.inputs(spec, 2);
        for (TiledGemmConfig tiled : new TiledGemmConfig[] {TiledGemmConfig.validationSets().get(0), TiledGemmConfig.validationSets().get(9)}) {
            AtomicInteger resolved = new AtomicInteger();
            DeviceGemmConfigs configs = new DeviceGemmConfigs(info -> {
                resolved.incrementAndGet();
                return new GemmConfig.Choice(tiled, TuningStore.Source.TUNED, "the test");
            });
            OpImplementations impls = OpImplementations.defaults().with(Int8Linear.class, Backend.OPENCL, new Int8LinearOpenCl(configs));
            GraphRuntime.Result got;
            try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("cl:cpu"), CL.pool()), impls, true)) {
                got = rt.run(in);
            }
            assertTrue(resolved.get() == 1, "the linears asked for the tiled configuration");
            double e = GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", in), got);
            assertTrue(e <= GRAPH_TOLERANCE, tiled.brief() + ": error " + e);
        }
    }
}
