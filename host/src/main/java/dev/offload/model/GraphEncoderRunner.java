package dev.offload.model;

import dev.offload.graph.Graph;
import dev.offload.graph.TensorType;
import dev.offload.profile.ProfileReport;
import dev.offload.runtime.AutoPlacer;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
import dev.offload.runtime.ResidentWeights;
import dev.offload.tensor.DType;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The encoder on OpenCL devices (or any placement): {@link EncoderGraph} run by {@link GraphRuntime}. Graphs have
 * static shapes, so one graph and runtime is built per (batch, padded length) and kept (a few, least recently used
 * first out); their nodes share one copy of the weights per device ({@link ResidentWeights}). Lengths are padded up to a multiple of
 * {@value #LENGTH_STEP} so that batches of similar length share one; padding does not change a sentence's result
 * (per-sentence activation ranges, masked keys). Every run's profile samples are kept for {@link #profile}.
 */
public final class GraphEncoderRunner implements EncoderRunner {
    static final int LENGTH_STEP = 16;
    private static final int KEPT_SHAPES = 3;

    private final EncoderModel model;
    private final Pooling pooling;
    private final EncoderGraph.Prune prune;
    private final DevicePool pool;
    private final String placement;
    private final OpImplementations implementations = OpImplementations.defaults();
    private final boolean strict;
    private final PrintStream log;
    /** The weights on the devices, one copy shared by the runtimes of every shape. */
    private final ResidentWeights weights = new ResidentWeights();
    private final LinkedHashMap<String, GraphRuntime> runtimes = new LinkedHashMap<>(4, 0.75f, true);
    private final List<ProfileReport.Run> runs = new ArrayList<>();
    private ExecutionPlan lastPlan;

    /**
     * @param placement  one device spec, placement rules ({@code attention=cl:0:0,*=cl:cpu}) or {@code auto}
     * @param prune      null for the dense model
     * @param log        where auto placement reports its measurements
     */
    public GraphEncoderRunner(EncoderModel model, Pooling pooling, EncoderGraph.Prune prune, DevicePool pool, String placement,
                              boolean strict, PrintStream log) {
        this.model = model;
        this.pooling = pooling;
        this.prune = prune;
        this.pool = pool;
        this.placement = placement;
        this.strict = strict;
        this.log = log;
    }

    @Override
    public String device() {
        StringBuilder s = new StringBuilder(placement.equals("auto") ? "auto placement" : placement);
        List<String> devices = new ArrayList<>();
        boolean oneDevice = !placement.contains("=") && !placement.strip().equalsIgnoreCase("auto");
        for (var d : oneDevice ? List.of(pool.get(placement.strip())) : pool.distinct()) devices.add(d.description());
        if (!devices.isEmpty()) s.append(" (").append(String.join("; ", devices)).append(")");
        if (prune != null) s.append(", weights pruned ").append(prune);
        return s.toString();
    }

    @Override
    public EncoderModel model() { return model; }

    /** The plan of the last shape run (for printing). */
    public ExecutionPlan plan(int batch, int length) { return runtime(batch, padded(length)).plan(); }

    static int padded(int length) { return (length + LENGTH_STEP - 1) / LENGTH_STEP * LENGTH_STEP; }

    private synchronized GraphRuntime runtime(int batch, int length) {
        String key = batch + "x" + length;
        GraphRuntime rt = runtimes.get(key);
        if (rt != null) return rt;
        Graph g = EncoderGraph.build(model, batch, length, pooling, prune);
        ExecutionPlan plan = placement.strip().equalsIgnoreCase("auto")
                ? new AutoPlacer(AutoPlacer.defaultCache(), implementations, log).plan(g, pool)
                : ExecutionPlan.of(g, Placement.parse(placement), pool);
        rt = new GraphRuntime(plan, implementations, strict, weights);
        runtimes.put(key, rt);
        lastPlan = plan;
        if (runtimes.size() > KEPT_SHAPES) {
            Iterator<GraphRuntime> eldest = runtimes.values().iterator();
            GraphRuntime old = eldest.next();
            eldest.remove();
            old.close();
        }
        return rt;
    }

    @Override
    public float[] lastHiddenState(TokenBatch in) {
        int b = in.batch(), s = in.length(), sp = padded(Math.min(s, model.config().maxPositions()));
        if (s > model.config().maxPositions()) throw new IllegalArgumentException("sequence length " + s + " exceeds the model's " + model.config().maxPositions() + " positions");
        sp = Math.min(Math.max(sp, s), model.config().maxPositions());
        int[] ids = new int[b * sp], types = new int[b * sp], lengths = new int[b];
        for (int r = 0; r < b; r++) {
            for (int t = 0; t < s; t++) {
                ids[r * sp + t] = Math.toIntExact(in.ids()[r * s + t]);
                types[r * sp + t] = Math.toIntExact(in.typeIds()[r * s + t]);
                if (in.mask()[r * s + t] != 0) {
                    if (lengths[r] != t) throw new IllegalArgumentException("sequence " + r + " is not right-padded (mask " + java.util.Arrays.toString(java.util.Arrays.copyOfRange(in.mask(), r * s, r * s + s)) + ")");
                    lengths[r]++;
                }
            }
            // Padding positions beyond the input copy the pad id of the input (or 0): masked either way.
            for (int t = s; t < sp; t++) ids[r * sp + t] = s > 0 ? ids[r * sp + s - 1] : 0;
        }
        GraphRuntime rt = runtime(b, sp);
        Map<String, HostTensor> inputs = Map.of(
                EncoderGraph.IDS, HostTensor.of(TensorType.of(DType.INT32, b, sp), ids),
                EncoderGraph.TYPES, HostTensor.of(TensorType.of(DType.INT32, b, sp), types),
                EncoderGraph.LENGTHS, HostTensor.of(TensorType.of(DType.INT32, b), lengths));
        GraphRuntime.Result r = rt.run(inputs);
        synchronized (this) {
            runs.add(new ProfileReport.Run(r.samples(), r.startNanoTime(), r.wallNs()));
        }
        float[] hidden = r.output(EncoderGraph.hiddenName(model)).floats();
        if (sp == s) return hidden;
        int h = model.config().hidden();
        float[] out = new float[b * s * h];
        for (int row = 0; row < b; row++) System.arraycopy(hidden, row * sp * h, out, row * s * h, s * h);
        return out;
    }

    /** The profile of every run so far, or null before the first. */
    public synchronized ProfileReport profile(int batch, int length) {
        if (runs.isEmpty()) return null;
        List<String> devices = new ArrayList<>();
        for (var d : (lastPlan != null ? lastPlan.devices() : pool.distinct())) devices.add(d.spec() + " = " + d.description());
        long weights = lastPlan != null ? lastPlan.graph().weightBytes() : 0;
        String graph = lastPlan != null ? lastPlan.graph().name() + " (" + lastPlan.graph().nodes().size() + " nodes)" : model.name();
        return new ProfileReport(new ProfileReport.Meta(model.name(), graph, placement, devices, batch, length, 0, weights,
                this.weights.bytesByDevice()), runs);
    }

    /** Forgets the profile samples so far (after a warm-up run). */
    public synchronized void resetProfile() { runs.clear(); }

    @Override
    public synchronized void close() {
        for (GraphRuntime rt : runtimes.values()) rt.close();
        runtimes.clear();
        weights.close();
    }
}
