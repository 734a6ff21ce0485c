package dev.offload.testing;

import dev.offload.graph.Graph;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
import java.util.Map;

/** Helpers shared by the runtime tests: running a graph under a placement and comparing outputs. */
public final class GraphFixtures {
    private GraphFixtures() {}

    public static GraphRuntime.Result run(Graph g, DevicePool pool, String placement, Map<String, HostTensor> in) {
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse(placement), pool), OpImplementations.defaults(), false)) {
            rt.allocations().poisonNewBuffers(true);
            return rt.run(in);
        }
    }

    /** Normwise relative error max|got - want| / max|want|; any NaN (poison left in place) counts as infinite. */
    public static double relativeError(float[] want, float[] got) {
        if (want.length != got.length) return Double.POSITIVE_INFINITY;
        double scale = 1e-30, err = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) {
            if (Float.isNaN(got[i])) return Double.POSITIVE_INFINITY;
            err = Math.max(err, Math.abs((double) got[i] - want[i]));
        }
        return err / scale;
    }

    public static double maxError(GraphRuntime.Result want, GraphRuntime.Result got) {
        double e = 0;
        for (var entry : want.outputs().entrySet()) {
            e = Math.max(e, relativeError(entry.getValue().floats(), got.output(entry.getKey()).floats()));
        }
        return e;
    }
}
