package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.JavaDevice;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Graph;
import dev.offload.profile.OpSample;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GraphRuntimeTest {
    static OpenClDevice device;

    @BeforeAll
    static void open() { device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow()); }

    @AfterAll
    static void close() { device.close(); }

    static GraphRuntime.Result run(Graph g, DevicePool pool, String placement, Map<String, HostTensor> in) {
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse(placement), pool), OpImplementations.defaults(), false)) {
            return rt.run(in);
        }
    }

    @Test
    void decoderOnOpenClMatchesJava() {
        SyntheticSpec spec = SyntheticSpec.parse("synthetic:arch=decoder,layers=2,hidden=64,heads=4,kv-heads=2,ffn=96,seq=7,batch=2");
        Graph g = SyntheticModel.build(spec);
        var in = SyntheticModel.inputs(spec, 3);
        DevicePool pool = DevicePool.of(device);
        GraphRuntime.Result want = run(g, pool, "java", in);
        GraphRuntime.Result got = run(g, pool, "cl:cpu", in);
        for (OpSample s : got.samples()) System.out.println(s);
        float[] w = want.outputs().values().iterator().next().floats(), o = got.outputs().values().iterator().next().floats();
        double max = 0, err = 0;
        for (int i = 0; i < w.length; i++) { max = Math.max(max, Math.abs(w[i])); err = Math.max(err, Math.abs(w[i] - o[i])); }
        System.out.println("err " + err / max);
        assertTrue(err / max < 1e-3);
    }
}
