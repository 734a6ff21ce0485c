package dev.offload.cli;

import dev.offload.device.ComputeDevice;
import dev.offload.device.DeviceRegistry;
import dev.offload.graph.Graph;
import dev.offload.profile.LayerChart;
import dev.offload.profile.ProfileReport;
import dev.offload.profile.ProfileTable;
import dev.offload.profile.Progress;
import dev.offload.runtime.AutoPlacer;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.profile.OpSample;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.KvCache;
import dev.offload.runtime.MicroBatches;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
import dev.offload.runtime.ResidentWeights;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs a model graph across devices and shows where the time goes: per layer, per op kind, totals; trace and chart. */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = "Run a model graph on one device or across several and profile every op (table, JSON, Chrome trace, SVG chart).")
public final class ProfileCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Mixin ProfileOutputs outputs;

    @Option(names = "--model", required = true, paramLabel = "SPEC",
            description = "The model: synthetic:arch=encoder|decoder,layers=L,hidden=H,heads=A,kv-heads=G,ffn=F,seq=S,batch=B[,sparsity=0.9|2:4][,seed=N]")
    String model;

    @Option(names = "--device", paramLabel = "SPEC", description = "Run every op on one device (java, cl:cpu, cl:0:0, ...). Default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else CPU.")
    String device;

    @Option(names = "--placement", paramLabel = "RULES",
            description = "Per op kind or node name: attention=cl:gpu,linear=cl:accelerator,*=cl:cpu; or 'auto' (measure each op kind on each device, cached).")
    String placement;

    @Option(names = "--iterations", defaultValue = "3", description = "Profiled runs (default ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--warmup", defaultValue = "1", description = "Unprofiled runs first: program builds, weight uploads, JIT (default ${DEFAULT-VALUE}).")
    int warmup;



    @Option(names = "--decode-steps", defaultValue = "0", paramLabel = "N",
            description = "Decoder only: after the prefill, N single-token steps over a per-request KV cache; their rows show as decode:<layer> (default ${DEFAULT-VALUE}).")
    int decodeSteps;

    @Option(names = "--micro-batches", defaultValue = "1", paramLabel = "M",
            description = "Split the batch into M micro-batches pipelined across the placement's devices (e.g. --placement layer.0=cl:0:0,*=cl:0:1); M must divide the batch (default ${DEFAULT-VALUE}).")
    int microBatches;

    @Option(names = "--chart", paramLabel = "FILE.svg", description = "Write an SVG chart of time per layer by op kind.")
    Path chart;


    @Option(names = "--plan-only", description = "Print the placement and exit.")
    boolean planOnly;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (device != null && placement != null) throw new UserError("give --device or --placement, not both");
        if (iterations < 1 || warmup < 0) throw new UserError("--iterations must be >= 1 and --warmup >= 0");
        if (!SyntheticSpec.matches(model)) {
            throw new UserError("profile runs synthetic models for now (--model synthetic:arch=decoder,...); got '" + model + "'");
        }
        SyntheticSpec s = SyntheticSpec.parse(model);
        if (decodeSteps < 0) throw new UserError("--decode-steps must be >= 0");
        if (decodeSteps > 0 && s.arch() != SyntheticSpec.Arch.DECODER) throw new UserError("--decode-steps needs arch=decoder");
        if (microBatches < 1 || s.batch() % microBatches != 0) {
            throw new UserError("--micro-batches must divide the batch (" + s.batch() + "), got " + microBatches);
        }
        System.err.println("building " + s + " ...");
        // Graphs are built for one micro-batch; the weights depend on the seed only, so all of them share one model.
        SyntheticSpec micro = s.withBatch(s.batch() / microBatches);
        Graph graph = SyntheticModel.build(micro);
        Graph step = decodeSteps > 0 ? SyntheticModel.build(micro.withSeq(1)) : null;
        List<Map<String, HostTensor>> inputs = MicroBatches.split(SyntheticModel.inputs(s, s.seed()), microBatches);
        List<List<Map<String, HostTensor>>> stepInputs = new ArrayList<>();
        for (Map<String, HostTensor> in : SyntheticModel.decodeInputs(s, decodeSteps, s.seed())) stepInputs.add(MicroBatches.split(in, microBatches));
        DeviceRegistry registry = common.registry();
        OpImplementations impls = OpImplementations.defaults();
        String rules = placement != null ? placement : device != null ? device : registry.defaultSpec();
        try (DevicePool pool = DevicePool.open(registry)) {
            ExecutionPlan plan = rules.strip().equalsIgnoreCase("auto")
                    ? new AutoPlacer(AutoPlacer.defaultCache(), impls, System.err).plan(graph, pool)
                    : ExecutionPlan.of(graph, Placement.parse(rules), pool);
            out.print(plan.describe());
            out.flush();
            if (planOnly) return 0;
            List<ProfileReport.Run> runs = new ArrayList<>();
            long decodeNs = 0;
            Map<String, Long> resident = Map.of();
            try (ResidentWeights weights = new ResidentWeights();
                 GraphRuntime runtime = new GraphRuntime(plan, impls, outputs.strict, weights);
                 GraphRuntime stepRuntime = step == null ? null : new GraphRuntime(ExecutionPlan.of(step, rulesFor(rules, plan, step, pool), pool), impls, outputs.strict, weights)) {
                Progress warm = new Progress(System.err, "warmup", warmup);
                for (int i = 1; i <= warmup; i++) {
                    long t0 = System.nanoTime();
                    request(runtime, stepRuntime, inputs, stepInputs, s);
                    warm.step(i, String.format("%.1f ms", (System.nanoTime() - t0) / 1e6));
                }
                Progress prog = new Progress(System.err, "profile", iterations);
                for (int i = 1; i <= iterations; i++) {
                    Request r = request(runtime, stepRuntime, inputs, stepInputs, s);
                    runs.add(r.run());
                    decodeNs += r.decodeNs();
                    prog.step(i, String.format("%.1f ms", r.run().wallNs() / 1e6));
                }
                resident = weights.bytesByDevice();
            } catch (GraphRuntime.FallbackRefused e) {
                throw new UserError(e.getMessage());
            }
            List<String> devices = new ArrayList<>();
            for (ComputeDevice d : plan.devices()) devices.add(d.spec() + " = " + d.description());
            ProfileReport report = new ProfileReport(new ProfileReport.Meta(s.toString(), graph.name() + " (" + graph.nodes().size() + " nodes)",
                    rules, devices, s.batch(), s.seq(), warmup, graph.weightBytes(), resident), runs,
                    decodeSteps == 0 ? null : new ProfileReport.Decode(decodeSteps, s.seq(), s.batch(), decodeNs / 1e6 / iterations / decodeSteps));
            out.println();
            ProfileTable.print(report, out);
            outputs.write(report, System.err::println);
            if (chart != null) { LayerChart.write(report, chart); System.err.println("wrote " + chart); }
            return 0;
        }
    }

    /** One profiled request: its samples (decode steps as decode:<layer>, on one time line) and the decode wall time. */
    private record Request(ProfileReport.Run run, long decodeNs) {}

    private Request request(GraphRuntime prefill, GraphRuntime step, List<Map<String, HostTensor>> inputs,
                            List<List<Map<String, HostTensor>>> stepInputs, SyntheticSpec s) {
        List<KvCache> caches = new ArrayList<>();
        try {
            if (step != null) for (int m = 0; m < inputs.size(); m++) caches.add(new KvCache(s.seq() + stepInputs.size()));
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

    /** The decode-step graph's placement: the same rules, or for auto the prefill plan's device per node name. */
    private static Placement rulesFor(String rules, ExecutionPlan plan, Graph step, DevicePool pool) {
        if (!rules.strip().equalsIgnoreCase("auto")) return Placement.parse(rules);
        Map<String, String> byNode = new java.util.LinkedHashMap<>();
        for (dev.offload.graph.Node n : step.nodes()) byNode.put(n.name(), plan.deviceFor(plan.graph().node(n.name())).spec());
        return new Placement(byNode);
    }
}
