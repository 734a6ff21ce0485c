package dev.offload.bench;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Graph;
import dev.offload.kernels.KernelFamily;
import dev.offload.profile.OpSample;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import ch.qos.logback.classic.Level;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's cost per op: {@link GraphRuntime} on a tiny synthetic encoder whose ops are all small, so
 * nearly all of a run is overhead. Per run: (host wall time - the device kernel times summed) / ops, and the
 * profiler's host enqueue time per op; medians over runs. For scale, a bare launch + wait of a 64-element kernel
 * on the same device (the floor any synchronous op pays) is measured alongside.
 */
final class OverheadBench {
    private OverheadBench() {}

    static final String MODEL = "synthetic:arch=encoder,layers=4,hidden=64,heads=2,kv-heads=2,ffn=128,seq=4,batch=1";

    static void run(Report report, OpenClDevice device, boolean quick) {
        SyntheticSpec spec = SyntheticSpec.parse(MODEL);
        Graph graph = SyntheticModel.build(spec);
        Map<String, HostTensor> inputs = SyntheticModel.inputs(spec, spec.seed());
        int warmup = quick ? 3 : 10, runs = quick ? 15 : 60;
        double[] overhead = new double[runs], host = new double[runs], wall = new double[runs];
        int ops = 0, onJava = 0, transfers = 0;
        // Nodes without an OpenCL kernel fall back to java with one WARN each: counted in the note instead.
        Level level = quiet(Level.ERROR);
        try (DevicePool pool = DevicePool.of(device);
             GraphRuntime runtime = new GraphRuntime(ExecutionPlan.of(graph, Placement.everything(device.spec()), pool),
                     OpImplementations.defaults(), false)) {
            for (int i = 0; i < warmup; i++) runtime.run(inputs);
            for (int i = 0; i < runs; i++) {
                GraphRuntime.Result r = runtime.run(inputs);
                long deviceNs = 0, hostNs = 0;
                for (OpSample s : r.samples()) {
                    deviceNs += s.deviceNs();
                    hostNs += s.hostNs();
                }
                ops = r.samples().size();
                onJava = (int) r.samples().stream().filter(s -> !s.isTransfer() && s.device().equals("java")).count();
                transfers = (int) r.samples().stream().filter(OpSample::isTransfer).count();
                overhead[i] = (double) (r.wallNs() - deviceNs) / ops;
                host[i] = (double) hostNs / ops;
                wall[i] = r.wallNs();
            }
        } finally {
            quiet(level);
        }
        String name = "encoder L4 h64 s4: " + ops + " ops/run";
        double bare = bareLaunch(device, quick);
        double perOp = median(overhead);
        report.add(new BenchRow("overhead", name, "offload-graph", device.spec(), median(wall) / 1e6, perOp / 1e3, "us/op",
                Double.NaN, String.format(Locale.ROOT, "(run wall - sum of op times) / ops; profiler host enqueue %.1f us/op; %d ops on java (no OpenCL kernel), %d transfers",
                median(host) / 1e3, onJava, transfers)));
        report.add(new BenchRow("overhead", "launch+wait 64-element kernel", "bare-launch", device.spec(), bare / 1e6,
                bare / 1e3, "us/op", Double.NaN, "the floor of one synchronous launch on this device (no scheduler)"));
    }

    /** Median wall time of set args + enqueue + wait for the smoke kernel on 64 elements. */
    private static double bareLaunch(OpenClDevice device, boolean quick) {
        float[] x = new float[64];
        Arrays.fill(x, 1f);
        try (Buffer bx = device.upload(x); Buffer by = device.upload(x)) {
            var program = device.program(KernelFamily.SMOKE, "");
            return Timing.medianNanos(20, quick ? 101 : 501, Timing.wall(() -> {
                try (Kernel k = program.kernel("saxpy")) {
                    k.arg(0, 2f).arg(1, bx).arg(2, by).arg(3, 64);
                    try (Event e = device.queue().launch(k, new long[] {64}, null)) {
                        e.times();
                    }
                }
            }));
        }
    }

    /** Sets the graph runtime's log level, returning the previous one. */
    private static Level quiet(Level level) {
        if (LoggerFactory.getLogger(GraphRuntime.class) instanceof ch.qos.logback.classic.Logger l) {
            Level before = l.getLevel();
            l.setLevel(level);
            return before;
        }
        return null;
    }

    private static double median(double[] v) {
        double[] t = v.clone();
        Arrays.sort(t);
        return t.length % 2 == 1 ? t[t.length / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
    }
}
