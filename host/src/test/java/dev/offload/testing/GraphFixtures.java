package dev.offload.testing;

import dev.offload.graph.Graph;
import dev.offload.graph.TensorType;
import dev.offload.model.EncoderGraph;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
import dev.offload.tensor.DType;
import java.util.Map;
import java.util.Random;

/** Helpers shared by the runtime tests: running a graph under a placement and comparing outputs. */
public final class GraphFixtures {
    private GraphFixtures() {}

    public static GraphRuntime.Result run(Graph g, DevicePool pool, String placement, Map<String, HostTensor> in) {
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse(placement), pool), OpImplementations.defaults(), false)) {
            rt.allocations().poisonNewBuffers(true);
            return rt.run(in);
        }
    }

    /** Seeded inputs of a real encoder graph (EncoderGraph) of [batch, seq]: [CLS]-led token ids and ragged lengths (some sentences padded). */
    public static Map<String, HostTensor> encoderInputs(int batch, int seq, long seed) {
        Random r = new Random(seed);
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
