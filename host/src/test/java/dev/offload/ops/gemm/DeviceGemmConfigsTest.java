package dev.offload.ops.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A device's GEMM configuration is resolved (its tuning store read) once, however many GEMMs are made for it. */
class DeviceGemmConfigsTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    @Test
    void theTuningStoreIsReadOncePerDevice() {
        AtomicInteger reads = new AtomicInteger();
        DeviceGemmConfigs configs = new DeviceGemmConfigs(info -> {
            reads.incrementAndGet();
            return GemmConfig.resolve(info);
        });
        GemmConfig first = Int8Gemm.on(CL.device(), configs).config();
        for (int i = 0; i < 12; i++) assertSame(first, Int8Gemm.on(CL.device(), configs).config());
        assertEquals(1, reads.get(), "one read of the tuning store for 13 GEMMs on one device");
        assertEquals(GemmConfig.resolve(CL.device().info()).config(), first, "the same configuration a fresh read gives");
    }

    @Test
    void aGraphOfManyLinearNodesReadsTheTuningStoreOnce() {
        AtomicInteger reads = new AtomicInteger();
        DeviceGemmConfigs configs = new DeviceGemmConfigs(info -> {
            reads.incrementAndGet();
            return GemmConfig.resolve(info);
        });
        SyntheticSpec spec = SyntheticSpec.parse("synthetic:arch=encoder,layers=2,hidden=32,heads=2,ffn=48,seq=5,batch=2");
        Graph g = SyntheticModel.build(spec);
        long linears = g.nodes().stream().filter(n -> n.op() instanceof Int8Linear).count();
        OpImplementations impls = OpImplementations.defaults().with(Int8Linear.class, Backend.OPENCL, new Int8LinearOpenCl(configs));
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("cl:cpu"), CL.pool()), impls, true)) {
            rt.run(SyntheticModel.inputs(spec, 1));
        }
        assertTrue(linears >= 8, "the graph has " + linears + " int8 linear nodes");
        assertEquals(1, reads.get(), "one read of the tuning store for " + linears + " linear nodes on one device");
    }

    @Test
    void theStandardConfigurationsAreSharedToo() {
        // GemmConfig.resolve builds a new record on every read: the same instance twice means one read.
        assertSame(Int8Gemm.on(CL.device()).config(), Int8Gemm.on(CL.device()).config());
        assertSame(DeviceGemmConfigs.standard().choice(CL.device()), DeviceGemmConfigs.standard().choice(CL.device()));
    }
}
