package dev.offload.profile;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The samples of several runs of one graph (folded as they came, {@link ProfileTotals}), summarized: per node, per layer and per op kind (mean per run) and
 * totals. Time means device busy time (OpenCL start -> end, wall time for java ops); shares are of the summed
 * busy time of all ops and transfers, so they add up to 100% even when devices overlap.
 */
public final class ProfileReport {
    /**
     * What was profiled, for headers and the JSON.
     *
     * @param weightBytes         bytes of weights in the graph (host arrays)
     * @param residentWeightBytes bytes of weights held on each device (spec to bytes) when the profile was taken, as
     *                            uploaded and packed, shared by every graph of the model; empty when not known
     */
    public record Meta(String model, String graph, String placement, List<String> devices, int batch, int sequenceLength,
                       int warmup, long weightBytes, Map<String, Long> residentWeightBytes) {
        public Meta {
            residentWeightBytes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(residentWeightBytes));   // in device order
        }

        /** A profile without the resident weight bytes. */
        public Meta(String model, String graph, String placement, List<String> devices, int batch, int sequenceLength,
                    int warmup, long weightBytes) {
            this(model, graph, placement, devices, batch, sequenceLength, warmup, weightBytes, Map.of());
        }
    }

    /** One profiled run: its samples, when it started (host nanoTime) and how long it took. */
    public record Run(List<OpSample> samples, long startNanoTime, long wallNs) {}

    /** Mean per run of a group of samples. */
    public record Line(String name, Set<String> devices, int count, double timeMs, double share, double queueWaitMs,
                       double hostMs, double bytes, double operations, Set<String> fallbacks, Map<String, Double> msByKind) {
        public double gops() { return timeMs > 0 ? operations / (timeMs * 1e6) : 0; }

        public double gbps() { return timeMs > 0 ? bytes / (timeMs * 1e6) : 0; }

        public boolean fallback() { return !fallbacks.isEmpty(); }
    }

    /**
     * Decode steps after each run's prefill (a decoder with a KV cache): their samples are in the runs as
     * {@code decode:<layer>}; this is their wall time per step, mean over the runs.
     */
    public record Decode(int steps, int prefillTokens, int batch, double msPerStep) {
        public double tokensPerSecond() { return batch / (msPerStep / 1e3); }
    }

    private final Meta meta;
    private final List<Run> runs;
    private final Decode decode;

    private final ProfileTotals totals;

    public ProfileReport(Meta meta, List<Run> runs) { this(meta, runs, null); }

    /** @param decode the decode-step summary, or null when the runs had no decode steps */
    public ProfileReport(Meta meta, List<Run> runs, Decode decode) { this(meta, fold(runs), decode); }

    /** A report of runs folded as they came ({@link ProfileTotals}: flat memory however many). */
    public ProfileReport(Meta meta, ProfileTotals totals, Decode decode) {
        if (totals.runs() == 0) throw new IllegalArgumentException("a profile needs at least one run");
        this.meta = meta;
        this.totals = totals.snapshot();
        this.runs = this.totals.keptRuns();
        this.decode = decode;
    }

    private static ProfileTotals fold(List<Run> runs) {
        ProfileTotals t = new ProfileTotals();
        runs.forEach(t::add);
        return t;
    }

    public Meta meta() { return meta; }

    /** The decode-step summary, if the runs had decode steps. */
    public java.util.Optional<Decode> decode() { return java.util.Optional.ofNullable(decode); }

    /** The most recent runs with every sample (at most {@value ProfileTotals#KEPT_RUNS}), for traces. */
    public List<Run> runs() { return runs; }

    /** How many runs the report covers (all of them, not only those kept whole). */
    public int iterations() { return Math.toIntExact(totals.runs()); }

    private double totalMs() {
        double t = 0;
        for (ProfileTotals.Node s : totals.nodes()) t += s.deviceNs();
        return t / 1e6 / totals.runs();
    }

    private List<Line> group(java.util.function.Function<ProfileTotals.Node, String> key) {
        Map<String, List<ProfileTotals.Node>> groups = new LinkedHashMap<>();
        for (ProfileTotals.Node s : totals.nodes()) groups.computeIfAbsent(key.apply(s), k -> new ArrayList<>()).add(s);
        double total = totalMs();
        List<Line> out = new ArrayList<>();
        long n = totals.runs();
        groups.forEach((name, ss) -> {
            Set<String> devices = new LinkedHashSet<>();
            Set<String> fallbacks = new TreeSet<>();
            Map<String, Double> byKind = new LinkedHashMap<>();
            double time = 0, wait = 0, host = 0, bytes = 0, ops = 0;
            long samples = 0;
            for (ProfileTotals.Node s : ss) {
                devices.add(s.device());
                if (s.fallback() != null) fallbacks.add(s.fallback());
                samples += s.samples();
                time += s.deviceNs();
                wait += s.queueWaitNs();
                host += s.hostNs();
                bytes += s.bytes();
                ops += s.operations();
                byKind.merge(s.opKind(), s.deviceNs() / 1e6 / n, Double::sum);
            }
            double ms = time / 1e6 / n;
            out.add(new Line(name, devices, (int) (samples / n), ms, total > 0 ? ms / total : 0, wait / 1e6 / n, host / 1e6 / n,
                    bytes / n, ops / n, fallbacks, byKind));
        });
        return out;
    }

    public List<Line> byNode() { return group(ProfileTotals.Node::node); }

    public List<Line> byLayer() { return group(ProfileTotals.Node::layer); }

    public List<Line> byOpKind() {
        List<Line> l = new ArrayList<>(group(ProfileTotals.Node::opKind));
        l.sort((a, b) -> Double.compare(b.timeMs(), a.timeMs()));
        return l;
    }

    /** The op kinds in order of total time, for legends. */
    public List<String> opKinds() { return byOpKind().stream().map(Line::name).toList(); }

    public double meanLatencyMs() { return totals.meanWallNs() / 1e6; }

    public double minLatencyMs() { return totals.minWallNs() / 1e6; }

    public double maxLatencyMs() { return totals.maxWallNs() / 1e6; }

    public double sequencesPerSecond() { return meta.batch() / (meanLatencyMs() / 1e3); }

    public double tokensPerSecond() { return (double) meta.batch() * meta.sequenceLength() / (meanLatencyMs() / 1e3); }

    /** Summed busy time per run, all ops and transfers. */
    public double busyMs() { return totalMs(); }

    /** Busy time per device per run. */
    public Map<String, Double> busyMsByDevice() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (ProfileTotals.Node s : totals.nodes()) m.merge(s.device(), s.deviceNs() / 1e6 / totals.runs(), Double::sum);
        return m;
    }

    /** Nodes that did not run where the plan put them, with why. */
    public Map<String, String> fallbacks() {
        return new LinkedHashMap<>(totals.lastFallbacks());
    }
}
