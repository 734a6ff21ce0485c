package dev.offload.session;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.Graph;
import dev.offload.profile.OpSample;
import dev.offload.profile.ProfileReport;
import dev.offload.profile.ProfileTotals;
import dev.offload.profile.Progress;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.KvCache;
import dev.offload.runtime.MicroBatches;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.PlacementSpec;
import dev.offload.runtime.ResidentWeights;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A synthetic model (seeded random weights, {@link SyntheticModel}) opened once on a placement, for profiling: one
 * request is a prefill over the whole batch, split into micro-batches pipelined across the placement's devices, and
 * for a decoder then {@code decodeSteps} single-token steps, each attending over a per-request KV cache that the
 * prefill filled (kept on the device where each attention node runs).
 */
public final class SyntheticSession implements AutoCloseable {
    private final SyntheticSpec spec;
    private final int microBatches;
    private final ExecutionPlan plan;
    /** One device copy of the weights, shared by the prefill and decode-step runtimes. */
    private final ResidentWeights weights = new ResidentWeights();
    private final GraphRuntime prefill;
    private final GraphRuntime step;
    private final List<Map<String, HostTensor>> inputs;
    private final List<List<Map<String, HostTensor>>> stepInputs = new ArrayList<>();

    /**
     * @param decodeSteps  single-token steps after the prefill (decoders only)
     * @param microBatches how many parts the batch is split into; must divide it
     * @param log          where auto placement reports its measurements (null: quiet)
     */
    public SyntheticSession(SyntheticSpec spec, int decodeSteps, int microBatches, PlacementSpec placement, DevicePool pool,
                            boolean strict, PrintStream log) {
        if (decodeSteps < 0) throw new IllegalArgumentException("decode steps must be >= 0");
        if (decodeSteps > 0 && spec.arch() != SyntheticSpec.Arch.DECODER) throw new IllegalArgumentException("decode steps need arch=decoder");
        if (microBatches < 1 || spec.batch() % microBatches != 0) {
            throw new IllegalArgumentException("micro-batches must divide the batch (" + spec.batch() + "), got " + microBatches);
        }
        this.spec = spec;
        this.microBatches = microBatches;
        // Graphs are built for one micro-batch; the weights depend on the seed only, so all of them share one model.
        SyntheticSpec micro = spec.withBatch(spec.batch() / microBatches);
        Graph graph = SyntheticModel.build(micro);
        OpImplementations impls = OpImplementations.defaults();
        this.plan = placement.plan(graph, pool, impls, log);
        this.inputs = MicroBatches.split(SyntheticModel.inputs(spec, spec.seed()), microBatches);
        for (Map<String, HostTensor> in : SyntheticModel.decodeInputs(spec, decodeSteps, spec.seed())) {
            stepInputs.add(MicroBatches.split(in, microBatches));
        }
        this.prefill = new GraphRuntime(plan, impls, strict, weights);
        this.step = decodeSteps == 0 ? null
                : new GraphRuntime(placement.planAlike(SyntheticModel.build(micro.withSeq(1)), plan, pool), impls, strict, weights);
    }

    public ExecutionPlan plan() { return plan; }

    /** One request: its samples (decode steps relabelled decode:<layer>, on the prefill's time line) and decode time. */
    public record Request(ProfileReport.Run run, long decodeNs) {}

    public Request request() {
        List<KvCache> caches = new ArrayList<>();
        try {
            if (step != null) for (int m = 0; m < inputs.size(); m++) caches.add(new KvCache(spec.seq() + stepInputs.size()));
            GraphRuntime.Result first = prefill.runMicroBatches(inputs, step == null ? null : caches);
            List<OpSample> samples = new ArrayList<>(first.samples());
            long end = first.startNanoTime() + first.wallNs(), decodeNs = 0;
            for (List<Map<String, HostTensor>> in : stepInputs) {
                GraphRuntime.Result r = step.runMicroBatches(in, caches);
                long shift = r.startNanoTime() - first.startNanoTime();
                for (OpSample o : r.samples()) samples.add(o.relabeled("decode:" + o.layer(), shift));
                decodeNs += r.wallNs();
                end = r.startNanoTime() + r.wallNs();
            }
            return new Request(new ProfileReport.Run(samples, first.startNanoTime(), end - first.startNanoTime()), decodeNs);
        } finally {
            caches.forEach(KvCache::close);
        }
    }

    /** {@code warmup} unprofiled requests, then {@code iterations} profiled ones, with progress on {@code err}. */
    public ProfileReport profile(int warmup, int iterations, String placementText, PrintStream err) {
        if (iterations < 1 || warmup < 0) throw new IllegalArgumentException("iterations must be >= 1 and warm-up >= 0");
        Progress warm = new Progress(err, "warmup", warmup);
        for (int i = 1; i <= warmup; i++) {
            long t0 = System.nanoTime();
            request();
            warm.step(i, String.format("%.1f ms", (System.nanoTime() - t0) / 1e6));
        }
        ProfileTotals runs = new ProfileTotals();   // folded as they come: flat memory for any --iterations
        long decodeNs = 0;
        Progress prog = new Progress(err, "profile", iterations);
        for (int i = 1; i <= iterations; i++) {
            Request r = request();
            runs.add(r.run());
            decodeNs += r.decodeNs();
            prog.step(i, String.format("%.1f ms", r.run().wallNs() / 1e6));
        }
        List<String> devices = new ArrayList<>();
        for (ComputeDevice d : plan.devices()) devices.add(d.spec() + " = " + d.description());
        Graph graph = plan.graph();
        int steps = stepInputs.size();
        return new ProfileReport(new ProfileReport.Meta(spec.toString(), graph.name() + " (" + graph.nodes().size() + " nodes)",
                placementText, devices, spec.batch(), spec.seq(), warmup, graph.weightBytes(), weights.bytesByDevice()), runs,
                steps == 0 ? null : new ProfileReport.Decode(steps, spec.seq(), spec.batch(), decodeNs / 1e6 / iterations / steps));
    }

    public int microBatches() { return microBatches; }

    @Override
    public void close() {
        try {
            prefill.close();
            if (step != null) step.close();
        } finally {
            weights.close();
        }
    }
}
