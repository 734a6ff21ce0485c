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
import dev.offload.runtime.KvCache;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import ch.qos.logback.classic.Level;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's cost per op: {@link GraphRuntime} on a tiny synthetic encoder whose ops are all small, so
 * nearly all of a run is overhead, with plain enqueues and recorded once and replayed
 * ({@link GraphRuntime#replayLaunches}). Per run: (host wall time - the device times summed) / ops (the plain run's
 * op count for both); medians over runs. Then a decode-shaped graph (a one-token decoder step over a KV cache): host
 * time (wall - device time) over device time, plain and replayed. For scale, a bare launch + wait of a 64-element
 * kernel on the same device (the floor any synchronous op pays) is measured alongside.
 */
final class OverheadBench {
    private OverheadBench() {}

    static final String MODEL = "synthetic:arch=encoder,layers=4,hidden=64,heads=2,kv-heads=2,ffn=128,seq=4,batch=1";

    /** A decode step's shape: small enough that the host's per-command cost shows, as in a small language model. */
    static final String DECODER = "synthetic:arch=decoder,layers=4,hidden=256,heads=4,kv-heads=2,ffn=512,seq=16,batch=1";

    /**
     * The same step at Llama 3.2 1B's shapes (16 layers, hidden 2048, 32 / 8 heads, FFN 8192; int8 weights, 1 GB, and
     * no 128256-token output layer): the size at which the "host <= 10% of device" is about a language model.
     */
    static final String DECODER_1B = "synthetic:arch=decoder,layers=16,hidden=2048,heads=32,kv-heads=8,ffn=8192,seq=16,batch=1";

    /** Medians over runs: host time per op (wall - device time, over {@code ops}), the wall, host / device, device time. */
    private record Overhead(double usPerOp, double wallMs, double hostOverDevice, double deviceNs, int samples, int onJava, int transfers) {}

    static void run(Report report, OpenClDevice device, boolean quick) {
        SyntheticSpec spec = SyntheticSpec.parse(MODEL);
        Graph graph = SyntheticModel.build(spec);
        Map<String, HostTensor> inputs = SyntheticModel.inputs(spec, spec.seed());
        int warmup = quick ? 3 : 10, runs = quick ? 15 : 60;
        // Nodes without an OpenCL kernel fall back to java with one WARN each: counted in the note instead.
        Level level = quiet(Level.ERROR);
        try (DevicePool pool = DevicePool.of(device)) {
            Overhead plain = null;
            for (boolean replay : new boolean[] {false, true}) {
                try (GraphRuntime runtime = runtime(graph, device, pool, replay)) {
                    int ops = plain == null ? 0 : plain.samples();   // per op of the plain run, for both
                    Overhead o = measure(runtime, i -> inputs, null, warmup, runs, ops, Double.NaN);
                    if (plain == null) plain = o;
                    String name = "encoder L4 h64 s4: " + plain.samples() + " ops/run";
                    report.add(new BenchRow("overhead", name, replay ? "offload-replay" : "offload-graph", device.spec(), o.wallMs(), o.usPerOp(), "us/op",
                            replay ? plain.usPerOp() / o.usPerOp() : Double.NaN, replay
                                    ? String.format(Locale.ROOT, "recorded once, replayed (%s); ratio = plain us/op / replayed us/op", runtime.replayStatus())
                                    : String.format(Locale.ROOT, "plain enqueues; (run wall - sum of op times) / ops; %d ops on java (no OpenCL kernel), %d transfers",
                                    o.onJava(), o.transfers())));
                }
            }
            decodeShaped(report, device, pool, quick, DECODER, "L4 h256");
            if (!quick) decodeShaped(report, device, pool, quick, DECODER_1B, "L16 h2048 (1B-shaped)");
        } finally {
            quiet(level);
        }
        double bare = bareLaunch(device, quick);
        report.add(new BenchRow("overhead", "launch+wait 64-element kernel", "bare-launch", device.spec(), bare / 1e6,
                bare / 1e3, "us/op", Double.NaN, "the floor of one synchronous launch on this device (no scheduler)"));
    }

    /** A one-token decoder step over a KV cache, plain and replayed: host time / device time per step. */
    private static void decodeShaped(Report report, OpenClDevice device, DevicePool pool, boolean quick, String model, String label) {
        SyntheticSpec spec = SyntheticSpec.parse(model);
        int warmup = quick ? 3 : 10, runs = quick ? 15 : 60;
        Graph prefill = SyntheticModel.build(spec), step = SyntheticModel.build(spec.withSeq(1));
        List<Map<String, HostTensor>> tokens = SyntheticModel.decodeInputs(spec, warmup + runs, 5);
        double plainRatio = Double.NaN, plainDeviceNs = Double.NaN;
        for (boolean replay : new boolean[] {false, true}) {
            try (GraphRuntime p = runtime(prefill, device, pool, false); GraphRuntime s = runtime(step, device, pool, replay);
                 KvCache cache = new KvCache(spec.seq() + warmup + runs)) {
                p.run(SyntheticModel.inputs(spec, 4), cache);
                // The same kernels run either way; a replayed segment's one event does not time them reliably on PoCL,
                // so the device time of both is the plain run's kernels' (summed per step, median).
                Overhead o = measure(s, tokens::get, cache, warmup, runs, step.nodes().size(), plainDeviceNs);
                if (!replay) {
                    plainRatio = o.hostOverDevice();
                    plainDeviceNs = o.deviceNs();
                }
                report.add(new BenchRow("overhead", "decode step " + label + " (" + step.nodes().size() + " nodes)", replay ? "offload-replay" : "offload-graph",
                        device.spec(), o.wallMs(), 100 * o.hostOverDevice(), "% host/device",
                        replay ? plainRatio / o.hostOverDevice() : Double.NaN,
                        String.format(Locale.ROOT, "host time (wall - device time) / device time per step, target <= 10%%; device %.0f us (the plain run's kernels); %.1f us/op%s",
                                plainDeviceNs / 1e3, o.usPerOp(),
                                replay ? "; " + s.replayStatus() + "; ratio = plain / replayed" : "")));
            }
        }
    }

    private static GraphRuntime runtime(Graph graph, OpenClDevice device, DevicePool pool, boolean replay) {
        return new GraphRuntime(ExecutionPlan.of(graph, Placement.everything(device.spec()), pool), OpImplementations.defaults(), false)
                .replayLaunches(replay);
    }

    /**
     * Runs warm-up then measured runs ({@code inputs} of the run index); {@code ops} 0: the run's own sample count;
     * {@code deviceNsGiven} NaN: each run's device time is its samples' sum, else this.
     */
    private static Overhead measure(GraphRuntime runtime, java.util.function.IntFunction<Map<String, HostTensor>> inputs, KvCache cache,
                                    int warmup, int runs, int ops, double deviceNsGiven) {
        for (int i = 0; i < warmup; i++) runtime.run(inputs.apply(i), cache);
        double[] overhead = new double[runs], wall = new double[runs], ratio = new double[runs], device = new double[runs];
        int samples = 0, onJava = 0, transfers = 0;
        for (int i = 0; i < runs; i++) {
            GraphRuntime.Result r = runtime.run(inputs.apply(warmup + i), cache);
            double deviceNs = 0;
            for (OpSample s : r.samples()) deviceNs += s.deviceNs();
            if (!Double.isNaN(deviceNsGiven)) deviceNs = deviceNsGiven;
            device[i] = deviceNs;
            samples = r.samples().size();
            onJava = (int) r.samples().stream().filter(s -> !s.isTransfer() && s.device().equals("java")).count();
            transfers = (int) r.samples().stream().filter(OpSample::isTransfer).count();
            overhead[i] = (r.wallNs() - deviceNs) / (ops > 0 ? ops : samples);
            wall[i] = r.wallNs();
            ratio[i] = (r.wallNs() - deviceNs) / deviceNs;
        }
        return new Overhead(median(overhead) / 1e3, median(wall) / 1e6, median(ratio), median(device), samples, onJava, transfers);
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
