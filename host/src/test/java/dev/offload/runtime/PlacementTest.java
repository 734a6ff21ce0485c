package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.device.JavaDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.Node;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class PlacementTest {
    static final SyntheticSpec SPEC = SyntheticSpec.parse("synthetic:arch=encoder,layers=1,hidden=32,heads=2,ffn=48,seq=5,batch=2");
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    @Test
    void nodeNameBeatsOpKindBeatsTheDefault() {
        Graph g = SyntheticModel.build(SPEC);
        ExecutionPlan plan = ExecutionPlan.of(g, Placement.parse("layer.0.attn.norm=cl:cpu, layer_norm=java, *=cl:cpu"), CL.pool());
        assertEquals(CL.device(), plan.deviceFor(g.node("layer.0.attn.norm")));
        assertEquals(JavaDevice.INSTANCE, plan.deviceFor(g.node("layer.0.ffn.norm")));
        assertEquals(CL.device(), plan.deviceFor(g.node("layer.0.attn")));
        Node q = g.node("layer.0.attn.q");
        assertEquals(java.util.List.of(CL.device(), JavaDevice.INSTANCE), plan.chain(q));
        assertTrue(plan.describe().contains("layer_norm"));
    }

    @Test
    void aRangeOfLayersIsARuleForEachOfThem() {
        Placement p = Placement.parse("layer.0-2=cl:0:0,layer.3=cl:0:1,*=java");
        assertEquals(java.util.List.of("layer.0", "layer.1", "layer.2", "layer.3", "*"), java.util.List.copyOf(p.rules().keySet()));
        assertEquals("cl:0:0", p.rules().get("layer.1"));
        assertThrows(IllegalArgumentException.class, () -> Placement.parse("layer.3-1=cl:0:0"), "backwards");
        assertThrows(IllegalArgumentException.class, () -> Placement.parse("layer.0-3=cl:0:0,layer.2=java"), "layer.2 twice");
    }

    @Test
    void aSingleDeviceSpecPlacesEverything() {
        assertEquals(Placement.everything("cl:cpu"), Placement.parse("cl:cpu"));
        assertEquals(Placement.everything("cl:name=pthread"), Placement.parse("cl:name=pthread"));
        Graph g = SyntheticModel.build(SPEC);
        ExecutionPlan plan = ExecutionPlan.of(g, Placement.parse("java"), CL.pool());
        assertTrue(g.nodes().stream().allMatch(n -> plan.deviceFor(n) == JavaDevice.INSTANCE));
    }

    @Test
    void badRulesAreExplained() {
        Graph g = SyntheticModel.build(SPEC);
        var typo = assertThrows(IllegalArgumentException.class, () -> ExecutionPlan.of(g, Placement.parse("lineer=java,*=cl:cpu"), CL.pool()));
        assertTrue(typo.getMessage().contains("lineer") && typo.getMessage().contains("linear"), typo.getMessage());
        var uncovered = assertThrows(IllegalArgumentException.class, () -> ExecutionPlan.of(g, Placement.parse("linear=java"), CL.pool()));
        assertTrue(uncovered.getMessage().contains("*=cl:cpu"), uncovered.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Placement.parse("linear=,*=java"));
        assertThrows(IllegalArgumentException.class, () -> Placement.parse("a=java,a=cl:cpu"));
        assertThrows(IllegalArgumentException.class, () -> ExecutionPlan.of(g, Placement.parse("cl:gpu"), CL.pool()));
    }

    @Test
    void autoPlacementMeasuresOnceAndThenUsesItsCache(@TempDir Path cache) throws Exception {
        Graph g = SyntheticModel.build(SPEC);
        var out = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
        // Without an OpenCL linear, so that one kind has nowhere to go but java.
        OpImplementations impls = OpImplementations.defaults().without(Int8Linear.class, Backend.OPENCL);
        AutoPlacer first = new AutoPlacer(cache, impls, out);
        ExecutionPlan plan = first.plan(g, CL.pool());
        assertTrue(first.measuredCount() > 0);
        assertTrue(Files.readString(cache.resolve("autoplace.json")).contains(CL.device().device().stableId()));
        // Kinds without an OpenCL kernel can only go to java.
        assertEquals(JavaDevice.INSTANCE, plan.deviceFor(g.node("layer.0.attn.q")));
        AutoPlacer second = new AutoPlacer(cache, impls, out);
        ExecutionPlan again = second.plan(g, CL.pool());
        assertEquals(0, second.measuredCount());
        for (Node n : g.nodes()) assertEquals(plan.deviceFor(n), again.deviceFor(n));
        double e = GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", SyntheticModel.inputs(SPEC, 1)),
                new GraphRuntime(again, OpImplementations.defaults(), false).run(SyntheticModel.inputs(SPEC, 1)));
        assertTrue(e <= GraphRuntimeTest.GRAPH_TOLERANCE);
    }
}
