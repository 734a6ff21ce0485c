package dev.offload.profile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Chrome trace-event JSON (opens in Perfetto and chrome://tracing): {@code {"traceEvents": [...]}} with one
 * complete event ("ph":"X", ts and dur in microseconds) per op execution, one track (tid) per device queue plus
 * a track for the runs, and "M" metadata events naming the process and the tracks. The profiled runs are laid out
 * on one time axis from the start of the first.
 */
public final class ChromeTrace {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int PID = 1;

    private ChromeTrace() {}

    public static ObjectNode toJson(ProfileReport r) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode events = root.putArray("traceEvents");
        Map<String, Integer> tracks = new LinkedHashMap<>();
        tracks.put("runs", 1);
        long origin = r.runs().getFirst().startNanoTime();
        int iteration = 0;
        for (ProfileReport.Run run : r.runs()) {
            double base = (run.startNanoTime() - origin) / 1e3;
            ObjectNode e = complete(events, "run " + iteration++, "run", base, run.wallNs() / 1e3, 1);
            e.putObject("args").put("latencyMs", run.wallNs() / 1e6);
            for (OpSample s : run.samples()) {
                int tid = tracks.computeIfAbsent(s.track(), k -> tracks.size() + 1);
                ObjectNode x = complete(events, s.node(), s.opKind(), base + s.startNs() / 1e3,
                        Math.max(s.endNs() - s.startNs(), 0) / 1e3, tid);
                ObjectNode args = x.putObject("args");
                args.put("layer", s.layer());
                args.put("opKind", s.opKind());
                args.put("device", s.device());
                args.put("deviceUs", s.deviceNs() / 1e3);
                args.put("queueWaitUs", s.queueWaitNs() / 1e3);
                args.put("hostUs", s.hostNs() / 1e3);
                args.put("bytes", s.bytesRead() + s.bytesWritten());
                args.put("operations", s.operations());
                if (s.fallback() != null) args.put("fallback", s.fallback());
            }
        }
        meta(events, "process_name", 0, "name", "offload " + r.meta().model());
        tracks.forEach((name, tid) -> {
            meta(events, "thread_name", tid, "name", name);
            meta(events, "thread_sort_index", tid, "sort_index", tid);
        });
        root.put("displayTimeUnit", "ms");
        return root;
    }

    private static ObjectNode complete(ArrayNode events, String name, String cat, double tsUs, double durUs, int tid) {
        ObjectNode e = events.addObject();
        e.put("name", name);
        e.put("cat", cat);
        e.put("ph", "X");
        e.put("ts", tsUs);
        e.put("dur", durUs);
        e.put("pid", PID);
        e.put("tid", tid);
        return e;
    }

    private static void meta(ArrayNode events, String name, int tid, String argName, Object value) {
        ObjectNode e = events.addObject();
        e.put("name", name);
        e.put("ph", "M");
        e.put("pid", PID);
        e.put("tid", tid);
        ObjectNode args = e.putObject("args");
        if (value instanceof Integer i) args.put(argName, i); else args.put(argName, value.toString());
    }

    /** Writes the trace through {@link dev.offload.io.AtomicFile}: whole or not at all. */
    public static void write(ProfileReport r, Path file) {
        dev.offload.io.AtomicFile.write(file, out -> MAPPER.writeValue(out, toJson(r)));
    }
}
