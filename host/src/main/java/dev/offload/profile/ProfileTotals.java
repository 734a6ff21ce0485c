package dev.offload.profile;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Profile runs folded as they arrive: sums per node (and device, layer, kind, fallback) and the latency statistics,
 * plus the last {@value #KEPT_RUNS} runs whole (for traces and the JSON's run list). Memory stays flat however many
 * runs are added, so {@code profile --iterations 100000} and a long-lived profiling session do not grow.
 * Not thread-safe; callers synchronize.
 */
public final class ProfileTotals {
    /** Runs kept with every sample, the most recent ones. */
    public static final int KEPT_RUNS = 100;

    /** The sums of one node's samples (on one device, under one layer name, with one fallback reason). */
    public record Node(String node, String layer, String opKind, String device, String fallback, long samples,
                       double deviceNs, double queueWaitNs, double hostNs, double bytes, double operations) {
        Node plus(OpSample s) {
            return new Node(node, layer, opKind, device, fallback, samples + 1, deviceNs + s.deviceNs(), queueWaitNs + s.queueWaitNs(),
                    hostNs + s.hostNs(), bytes + s.bytesRead() + s.bytesWritten(), operations + s.operations());
        }
    }

    private record Key(String node, String layer, String opKind, String device, String fallback) {}

    private final Map<Key, Node> nodes = new LinkedHashMap<>();
    private final ArrayDeque<ProfileReport.Run> kept = new ArrayDeque<>();
    private final Map<String, String> lastFallbacks = new LinkedHashMap<>();
    private long runs, wallSumNs, wallMinNs = Long.MAX_VALUE, wallMaxNs = Long.MIN_VALUE;

    /** Folds one run in. */
    public void add(ProfileReport.Run run) {
        runs++;
        wallSumNs += run.wallNs();
        wallMinNs = Math.min(wallMinNs, run.wallNs());
        wallMaxNs = Math.max(wallMaxNs, run.wallNs());
        lastFallbacks.clear();
        for (OpSample s : run.samples()) {
            nodes.merge(new Key(s.node(), s.layer(), s.opKind(), s.device(), s.fallback()),
                    new Node(s.node(), s.layer(), s.opKind(), s.device(), s.fallback(), 0, 0, 0, 0, 0, 0).plus(s), (a, b) -> a.plus(s));
            if (s.fallback() != null) lastFallbacks.put(s.node(), s.fallback());
        }
        kept.addLast(run);
        if (kept.size() > KEPT_RUNS) kept.removeFirst();
    }

    public long runs() { return runs; }

    public List<Node> nodes() { return List.copyOf(nodes.values()); }

    /** The most recent runs, whole, oldest first. */
    public List<ProfileReport.Run> keptRuns() { return new ArrayList<>(kept); }

    public double meanWallNs() { return runs == 0 ? 0 : (double) wallSumNs / runs; }

    public long minWallNs() { return runs == 0 ? 0 : wallMinNs; }

    public long maxWallNs() { return runs == 0 ? 0 : wallMaxNs; }

    /** The nodes of the last run that did not run where the plan put them, with why. */
    public Map<String, String> lastFallbacks() { return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(lastFallbacks)); }

    /** A copy that later {@link #add}s do not change. */
    public ProfileTotals snapshot() {
        ProfileTotals t = new ProfileTotals();
        t.nodes.putAll(nodes);
        t.kept.addAll(kept);
        t.lastFallbacks.putAll(lastFallbacks);
        t.runs = runs;
        t.wallSumNs = wallSumNs;
        t.wallMinNs = wallMinNs;
        t.wallMaxNs = wallMaxNs;
        return t;
    }

    /** Forgets everything (after a warm-up). */
    public void clear() {
        nodes.clear();
        kept.clear();
        lastFallbacks.clear();
        runs = wallSumNs = 0;
        wallMinNs = Long.MAX_VALUE;
        wallMaxNs = Long.MIN_VALUE;
    }
}
