package dev.offload.profile;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** The terminal table: per layer, per op kind, totals. Fallbacks are marked with '*' and explained below. */
public final class ProfileTable {
    private ProfileTable() {}

    /** ", resident: cl:0:0 23.1 MB" (per device, as uploaded and packed), or nothing when not known. */
    private static String resident(ProfileReport.Meta m) {
        if (m.residentWeightBytes().isEmpty()) return "";
        List<String> parts = new java.util.ArrayList<>();
        m.residentWeightBytes().forEach((d, b) -> parts.add(String.format("%s %.1f MB", d, b / 1e6)));
        return " (resident: " + String.join(", ", parts) + ")";
    }

    public static void print(ProfileReport r, PrintWriter out) { print(r, out, true); }

    /**
     * @param throughput print the throughput the graph runs alone reach (batch x sequence length over their mean
     *                   latency); {@code run} leaves it out, its own figure covering the whole embedding loop
     */
    public static void print(ProfileReport r, PrintWriter out, boolean throughput) {
        ProfileReport.Meta m = r.meta();
        out.printf("model     %s%n", m.model());
        out.printf("graph     %s, %.1f MB weights%s, batch %d x seq %d, %d iterations after %d warmup%n", m.graph(),
                m.weightBytes() / 1e6, resident(m), m.batch(), m.sequenceLength(), r.iterations(), m.warmup());
        out.printf("placement %s%n", m.placement());
        for (String d : m.devices()) out.printf("device    %s%n", d);
        out.println();

        List<String> kinds = r.opKinds().stream().limit(6).toList();
        out.println("per layer (mean per run; time = device busy time)");
        StringBuilder head = new StringBuilder(String.format("%-16s %9s %6s %7s %7s ", "layer", "time ms", "share", "GOPS", "GB/s"));
        for (String k : kinds) head.append(String.format("%11s ", abbreviate(k, 11)));
        out.println(head.toString().stripTrailing());
        for (ProfileReport.Line l : r.byLayer()) {
            StringBuilder row = new StringBuilder(String.format("%-16s %9.3f %5.1f%% %7.2f %7.2f ", l.name(), l.timeMs(),
                    100 * l.share(), l.gops(), l.gbps()));
            for (String k : kinds) row.append(String.format("%11.3f ", l.msByKind().getOrDefault(k, 0.0)));
            out.println(row.toString().stripTrailing() + (l.fallback() ? "  *" : ""));
        }
        out.println();
        out.println("per op kind (mean per run)");
        String kindColumn = "%-" + dev.offload.graph.OpKind.KEY_WIDTH + "s";
        out.printf(kindColumn + " %-18s %5s %9s %6s %8s %7s %9s %8s%n", "op kind", "device", "nodes", "time ms", "share", "GOPS",
                "GB/s", "q-wait ms", "host ms");
        TreeSet<String> reasons = new TreeSet<>();
        for (ProfileReport.Line l : r.byOpKind()) {
            String devices = String.join(",", l.devices()) + (l.fallback() ? "*" : "");
            out.printf(kindColumn + " %-18s %5d %9.3f %5.1f%% %8.2f %7.2f %9.3f %8.3f%n", l.name(), abbreviate(devices, 18), l.count(),
                    l.timeMs(), 100 * l.share(), l.gops(), l.gbps(), l.queueWaitMs(), l.hostMs());
            reasons.addAll(l.fallbacks());
        }
        for (String why : reasons) out.println("  * fallback: " + why);
        out.println();
        out.printf("latency   mean %.2f ms per graph run (min %.2f, max %.2f)%n", r.meanLatencyMs(), r.minLatencyMs(), r.maxLatencyMs());
        if (throughput) out.printf("throughput %.2f sequences/s, %.1f tokens/s%n", r.sequencesPerSecond(), r.tokensPerSecond());
        StringBuilder busy = new StringBuilder("busy      ");
        for (Map.Entry<String, Double> e : r.busyMsByDevice().entrySet()) {
            busy.append(String.format("%s %.2f ms (%.0f%% of latency)  ", e.getKey(), e.getValue(), 100 * e.getValue() / r.meanLatencyMs()));
        }
        out.println(busy.toString().stripTrailing());
        r.decode().ifPresent(d -> out.printf("decode    %d steps after a %d-token prefill (latency above covers both): %.2f ms per step, %.1f tokens/s (batch %d)%n",
                d.steps(), d.prefillTokens(), d.msPerStep(), d.tokensPerSecond(), d.batch()));
        out.flush();
    }

    private static String abbreviate(String s, int width) { return s.length() <= width ? s : s.substring(0, width - 1) + "~"; }
}
