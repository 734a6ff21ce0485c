package dev.offload.runtime;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.graph.Graph;
import dev.offload.profile.OpSample;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import dev.offload.testing.GraphFixtures;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Run by {@link TwoDeviceTest} in a child JVM with POCL_DEVICES="pthread pthread" (PoCL reads it once, when the
 * OpenCL library loads): places attention and the norms on the second device, everything else on the first, and
 * checks the result against java. Exit 0 = pass, 1 = mismatch, 2 = setup problem.
 */
public final class TwoDeviceCheck {
    public static void main(String[] args) {
        DeviceRegistry registry = DeviceRegistry.discover(Binding.PANAMA);
        if (registry.openClDevices().size() < 2) {
            System.out.println("expected two OpenCL devices, found " + registry.openClDevices());
            System.exit(2);
        }
        SyntheticSpec spec = SyntheticSpec.parse("synthetic:arch=decoder,layers=2,hidden=64,heads=4,kv-heads=2,ffn=96,seq=9,batch=2");
        Graph g = SyntheticModel.build(spec);
        var in = SyntheticModel.inputs(spec, 11);
        try (DevicePool pool = DevicePool.open(registry)) {
            GraphRuntime.Result want = GraphFixtures.run(g, pool, "java", in);
            GraphRuntime.Result got = GraphFixtures.run(g, pool, "rms_norm=cl:0:1,attention=cl:0:1,silu_gate=cl:0:1,*=cl:0:0", in);
            double e = GraphFixtures.maxError(want, got);
            Set<String> devices = got.samples().stream().map(OpSample::device).collect(Collectors.toSet());
            System.out.println("devices used " + devices + ", error " + e);
            boolean ok = e <= GraphRuntimeTest.GRAPH_TOLERANCE && devices.contains("cl:0:0") && devices.contains("cl:0:1");
            System.exit(ok ? 0 : 1);
        }
    }
}
