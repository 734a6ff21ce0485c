package dev.offload.bench;

import java.util.Collection;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** Runs {@link LaunchOverheadBenchmark} with JMH and reports Panama's ns/launch against JOCL's. */
final class LaunchOverhead {
    private LaunchOverhead() {}

    static void run(Report report, boolean quick) throws Exception {
        Options opts = new OptionsBuilder()
                .include(LaunchOverheadBenchmark.class.getName())
                .forks(1)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow")
                .warmupIterations(quick ? 1 : 3).warmupTime(TimeValue.seconds(1))
                .measurementIterations(quick ? 2 : 5).measurementTime(TimeValue.seconds(1))
                .shouldDoGC(false)
                .output(java.nio.file.Files.createTempFile("offload-jmh", ".log").toString()) // JMH's own chatter; the table below has the result
                .build();
        Collection<RunResult> results = new Runner(opts).run();
        double panama = Double.NaN, jocl = Double.NaN;
        for (RunResult r : results) {
            String b = r.getParams().getParam("binding");
            double ns = r.getPrimaryResult().getScore();
            if (b.equals("panama")) panama = ns; else jocl = ns;
        }
        report.add(new BenchRow("launch", "set 2 args + enqueue", "offload-panama", "cl", panama / 1e6, panama, "ns/op",
                jocl / panama, "JMH average; ratio = JOCL ns / Panama ns"));
        report.add(new BenchRow("launch", "set 2 args + enqueue", "jocl", "cl", jocl / 1e6, jocl, "ns/op", Double.NaN, "JMH average"));
    }
}
