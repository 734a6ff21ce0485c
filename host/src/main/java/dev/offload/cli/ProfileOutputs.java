package dev.offload.cli;

import dev.offload.profile.ChromeTrace;
import dev.offload.profile.ProfileJson;
import dev.offload.profile.ProfileReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/** The profile files and the fallback rule that {@code run} and {@code profile} share. */
public final class ProfileOutputs {
    @Option(names = "--json", paramLabel = "FILE", description = "Write the profile as JSON (schema: docs/profile-json.md).")
    Path json;

    @Option(names = "--trace", paramLabel = "FILE", description = "Write a Chrome trace-event JSON of the runs (open it in https://ui.perfetto.dev).")
    Path trace;

    @Option(names = "--strict", description = "Fail instead of falling back to another device when an op cannot run where it is placed.")
    boolean strict;

    /** True when a profile file was asked for. */
    boolean wanted() { return json != null || trace != null; }

    /** Writes the JSON and trace files that were asked for, saying where on {@code log}. */
    void write(ProfileReport report, Consumer<String> log) throws IOException {
        if (json != null) {
            ProfileJson.write(report, json);
            log.accept("wrote " + json);
        }
        if (trace != null) {
            ChromeTrace.write(report, trace);
            log.accept("wrote " + trace + " (open in https://ui.perfetto.dev)");
        }
    }
}
