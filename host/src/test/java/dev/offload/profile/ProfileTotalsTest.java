package dev.offload.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Profiles fold runs as they come: the same summary as from every run kept, in memory that does not grow. */
class ProfileTotalsTest {
    static final ProfileReport.Meta META = new ProfileReport.Meta("m", "g", "cl:0:0", List.of("cl:0:0"), 2, 8, 0, 0);

    static ProfileReport.Run run(Random r, int i) {
        List<OpSample> s = new ArrayList<>();
        for (int n = 0; n < 6; n++) {
            String fallback = n == 5 && i % 2 == 0 ? "no kernel" : null;
            s.add(new OpSample("node" + n, "layer." + n / 3, n % 2 == 0 ? "linear" : "add", fallback == null ? "cl:0:0" : "java",
                    "q", fallback, 0, 10, r.nextInt(1000), 1000 + r.nextInt(5000), r.nextInt(300), 64, 32, 1 << 20, 0));
        }
        return new ProfileReport.Run(s, 0, 20_000 + r.nextInt(10_000));
    }

    @Test
    void foldedRunsSummarizeExactlyAsTheRunsThemselves() {
        Random r = new Random(3);
        List<ProfileReport.Run> all = new ArrayList<>();
        ProfileTotals totals = new ProfileTotals();
        for (int i = 0; i < 57; i++) {
            ProfileReport.Run run = run(r, i);
            all.add(run);
            totals.add(run);
        }
        ProfileReport folded = new ProfileReport(META, totals, null);
        // By hand from the runs: mean device ms per run of each node, and of each layer; the mean latency.
        for (ProfileReport.Line l : folded.byNode()) {
            double sum = 0;
            for (ProfileReport.Run run : all) for (OpSample o : run.samples()) if (o.node().equals(l.name())) sum += o.deviceNs();
            assertEquals(sum / 1e6 / all.size(), l.timeMs(), 1e-12, l.name());
            assertEquals(1, l.count(), l.name());
        }
        ProfileReport.Line node5 = folded.byNode().stream().filter(l -> l.name().equals("node5")).findFirst().orElseThrow();
        assertEquals(java.util.Set.of("cl:0:0", "java"), node5.devices());
        assertEquals(java.util.Set.of("no kernel"), node5.fallbacks());
        for (ProfileReport.Line l : folded.byLayer()) {
            double sum = 0;
            for (ProfileReport.Run run : all) for (OpSample o : run.samples()) if (o.layer().equals(l.name())) sum += o.deviceNs();
            assertEquals(sum / 1e6 / all.size(), l.timeMs(), 1e-12, l.name());
            assertEquals(3, l.count(), l.name());
        }
        assertEquals(all.stream().mapToLong(ProfileReport.Run::wallNs).average().orElseThrow() / 1e6, folded.meanLatencyMs(), 1e-12);
        assertEquals(all.stream().mapToLong(ProfileReport.Run::wallNs).max().orElseThrow() / 1e6, folded.maxLatencyMs(), 0);
        // The last run (i = 56, even) fell back on node5.
        assertEquals(java.util.Map.of("node5", "no kernel"), folded.fallbacks());
        assertEquals(57, folded.iterations());
    }

    @Test
    void manyRunsKeepOnlyTheLastRunsWholeAndOneEntryPerNode() {
        Random r = new Random(4);
        ProfileTotals totals = new ProfileTotals();
        for (int i = 0; i < 20_000; i++) totals.add(run(r, i));
        assertEquals(ProfileTotals.KEPT_RUNS, totals.keptRuns().size());
        assertEquals(7, totals.nodes().size(), "6 nodes, one of them on two devices");
        ProfileReport report = new ProfileReport(META, totals, null);
        assertEquals(20_000, report.iterations());
        assertEquals(ProfileTotals.KEPT_RUNS, report.runs().size());
        totals.add(run(r, 0));
        assertEquals(20_000, report.iterations(), "a report is a snapshot");
    }
}
