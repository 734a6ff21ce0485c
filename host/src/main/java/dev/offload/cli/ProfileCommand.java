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
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
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
        System.err.println("building " + s + " ...");
        Graph graph = SyntheticModel.build(s);
        Map<String, HostTensor> inputs = SyntheticModel.inputs(s, s.seed());
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
            try (GraphRuntime runtime = new GraphRuntime(plan, impls, outputs.strict)) {
                Progress warm = new Progress(System.err, "warmup", warmup);
                for (int i = 1; i <= warmup; i++) {
                    long t0 = System.nanoTime();
                    runtime.run(inputs);
                    warm.step(i, String.format("%.1f ms", (System.nanoTime() - t0) / 1e6));
                }
                Progress prog = new Progress(System.err, "profile", iterations);
                for (int i = 1; i <= iterations; i++) {
                    GraphRuntime.Result r = runtime.run(inputs);
                    runs.add(new ProfileReport.Run(r.samples(), r.startNanoTime(), r.wallNs()));
                    prog.step(i, String.format("%.1f ms", r.wallNs() / 1e6));
                }
            } catch (GraphRuntime.FallbackRefused e) {
                throw new UserError(e.getMessage());
            }
            List<String> devices = new ArrayList<>();
            for (ComputeDevice d : plan.devices()) devices.add(d.spec() + " = " + d.description());
            ProfileReport report = new ProfileReport(new ProfileReport.Meta(s.toString(), graph.name() + " (" + graph.nodes().size() + " nodes)",
                    rules, devices, s.batch(), s.seq(), warmup, graph.weightBytes()), runs);
            out.println();
            ProfileTable.print(report, out);
            outputs.write(report, System.err::println);
            if (chart != null) { LayerChart.write(report, chart); System.err.println("wrote " + chart); }
            return 0;
        }
    }
}
