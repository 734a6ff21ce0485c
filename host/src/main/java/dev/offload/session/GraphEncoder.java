package dev.offload.session;

import dev.offload.graph.TensorType;
import dev.offload.model.EncoderGraph;
import dev.offload.model.EncoderModel;
import dev.offload.model.TokenBatch;
import dev.offload.profile.ProfileReport;
import dev.offload.profile.ProfileTotals;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.PlacementSpec;
import dev.offload.runtime.ShapeRuntimes;
import dev.offload.tensor.DType;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The encoder as an {@link EncoderGraph} run by {@link GraphRuntime} on a placement of devices: one graph and runtime
 * per (batch, length) the caller runs, the {@value #KEPT_SHAPES} most recently used kept ({@link ShapeRuntimes}), all
 * sharing one device copy of the weights. Without profiling, each shape's first run on one OpenCL device is recorded
 * into command buffers and later runs of that shape replay it (GraphRuntime#replayLaunches: the same bits, far
 * fewer host calls per run). Thread-safe.
 *
 * <p>Profiling is opt-in: with it every run is folded into {@link ProfileTotals} (flat memory, the last runs kept
 * whole for traces) for {@link #profile}; without it nothing is recorded.
 */
public final class GraphEncoder implements EncoderBackend {
    private static final int KEPT_SHAPES = 3;

    private final EncoderModel model;
    private final EncoderGraph.Prune prune;
    private final DevicePool pool;
    private final PlacementSpec placement;
    private final boolean profiling;
    /** The weights on the devices: one copy shared by the runtimes of every shape. */
    private final ShapeRuntimes<BatchShape> runtimes;
    private final ProfileTotals runs = new ProfileTotals();

    /** The shape of an encoder batch: sentences x tokens. */
    private record BatchShape(int batch, int length) {}

    /**
     * @param prune     null for the dense model
     * @param profiling keep every run's samples for {@link #profile}
     * @param log       where auto placement reports its measurements (null: quiet)
     */
    public GraphEncoder(EncoderModel model, EncoderGraph.Prune prune, DevicePool pool, PlacementSpec placement,
                        boolean strict, boolean profiling, PrintStream log) {
        this.model = model;
        this.prune = prune;
        this.pool = pool;
        this.placement = placement;
        this.profiling = profiling;
        this.runtimes = new ShapeRuntimes<BatchShape>(shape -> EncoderGraph.build(model, shape.batch(), shape.length(), prune), pool, placement,
                OpImplementations.defaults(), strict, KEPT_SHAPES, shape -> false, log)
                .replayEvery(!profiling);   // a replayed run's profile has a row per recorded segment, not per node
    }

    @Override
    public String device() {
        StringBuilder s = new StringBuilder(placement instanceof PlacementSpec.Auto ? "auto placement" : placement.toString());
        List<String> devices = new ArrayList<>();
        String single = placement.singleDevice();
        for (var d : single != null ? List.of(pool.get(single)) : pool.distinct()) devices.add(d.description());
        if (!devices.isEmpty()) s.append(" (").append(String.join("; ", devices)).append(")");
        if (prune != null) s.append(", weights pruned ").append(prune);
        return s.toString();
    }

    @Override
    public EncoderModel model() { return model; }

    /** What replay does for batches of this shape: the recording's size, or why runs are plain (GraphRuntime#replayStatus). */
    public String replayStatus(int batch, int length) { return runtimes.replayStatus(new BatchShape(batch, length)); }

    /** The plan for batches of this shape (building its runtime if needed). */
    public ExecutionPlan plan(int batch, int length) { return runtimes.plan(new BatchShape(batch, length)); }

    @Override
    public float[] lastHiddenState(TokenBatch in) {
        int b = in.batch(), s = in.length();
        if (s > model.config().maxPositions()) {
            throw new IllegalArgumentException("sequence length " + s + " exceeds the model's " + model.config().maxPositions() + " positions");
        }
        int[] ids = new int[b * s], types = new int[b * s], lengths = new int[b];
        for (int r = 0; r < b; r++) {
            for (int t = 0; t < s; t++) {
                ids[r * s + t] = Math.toIntExact(in.ids()[r * s + t]);
                types[r * s + t] = Math.toIntExact(in.typeIds()[r * s + t]);
                if (in.mask()[r * s + t] != 0) {
                    if (lengths[r] != t) throw new IllegalArgumentException("sequence " + r + " is not right-padded (its mask has a gap at " + t + ")");
                    lengths[r]++;
                }
            }
        }
        Map<String, HostTensor> inputs = Map.of(
                EncoderGraph.IDS, HostTensor.of(TensorType.of(DType.INT32, b, s), ids),
                EncoderGraph.TYPES, HostTensor.of(TensorType.of(DType.INT32, b, s), types),
                EncoderGraph.LENGTHS, HostTensor.of(TensorType.of(DType.INT32, b), lengths));
        GraphRuntime.Result r = runtimes.run(new BatchShape(b, s), inputs, null);
        if (profiling) {
            synchronized (this) {
                runs.add(new ProfileReport.Run(r.samples(), r.startNanoTime(), r.wallNs()));
            }
        }
        return r.output(EncoderGraph.hiddenName(model)).floats();
    }

    /** The profile of the runs so far (profiling on), or null before the first. */
    public synchronized ProfileReport profile(int batch, int length) {
        if (runs.runs() == 0) return null;
        ExecutionPlan lastPlan = runtimes.lastPlan();
        List<String> devices = new ArrayList<>();
        for (var d : (lastPlan != null ? lastPlan.devices() : pool.distinct())) devices.add(d.spec() + " = " + d.description());
        long weightBytes = lastPlan != null ? lastPlan.graph().weightBytes() : 0;
        String graph = lastPlan != null ? lastPlan.graph().name() + " (" + lastPlan.graph().nodes().size() + " nodes)" : model.name();
        return new ProfileReport(new ProfileReport.Meta(model.name(), graph, placement.toString(), devices, batch, length, 0, weightBytes,
                runtimes.weights().bytesByDevice()), runs, null);
    }

    /** Forgets the profile samples so far (after a warm-up run). */
    public synchronized void resetProfile() { runs.clear(); }

    @Override
    public synchronized void close() {
        runtimes.close();
    }
}
