package dev.offload.profile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;

/** Writes a profile as JSON; the schema ({@value #SCHEMA}) is described in docs/profile-json.md. */
public final class ProfileJson {
    public static final String SCHEMA = "offload-profile/1";
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ProfileJson() {}

    public static ObjectNode toJson(ProfileReport r) {
        ObjectNode root = MAPPER.createObjectNode();
        ProfileReport.Meta m = r.meta();
        root.put("schema", SCHEMA);
        root.put("model", m.model());
        root.put("graph", m.graph());
        root.put("placement", m.placement());
        ArrayNode devices = root.putArray("devices");
        m.devices().forEach(devices::add);
        root.put("batch", m.batch());
        root.put("sequenceLength", m.sequenceLength());
        root.put("warmup", m.warmup());
        root.put("iterations", r.iterations());
        root.put("weightBytes", m.weightBytes());
        ObjectNode resident = root.putObject("residentWeightBytes");
        m.residentWeightBytes().forEach(resident::put);
        ObjectNode totals = root.putObject("totals");
        totals.put("latencyMsMean", r.meanLatencyMs());
        totals.put("latencyMsMin", r.minLatencyMs());
        totals.put("latencyMsMax", r.maxLatencyMs());
        totals.put("sequencesPerSecond", r.sequencesPerSecond());
        totals.put("tokensPerSecond", r.tokensPerSecond());
        totals.put("busyMs", r.busyMs());
        ObjectNode busy = totals.putObject("busyMsByDevice");
        r.busyMsByDevice().forEach(busy::put);
        r.decode().ifPresent(d -> {
            ObjectNode o = totals.putObject("decode");
            o.put("steps", d.steps());
            o.put("prefillTokens", d.prefillTokens());
            o.put("msPerStep", d.msPerStep());
            o.put("tokensPerSecond", d.tokensPerSecond());
        });
        ObjectNode fb = root.putObject("fallbacks");
        r.fallbacks().forEach(fb::put);
        lines(root.putArray("layers"), r.byLayer(), "layer", true);
        lines(root.putArray("opKinds"), r.byOpKind(), "opKind", false);
        lines(root.putArray("nodes"), r.byNode(), "node", false);
        ArrayNode runs = root.putArray("runs");
        for (ProfileReport.Run run : r.runs()) runs.addObject().put("wallMs", run.wallNs() / 1e6);
        return root;
    }

    private static void lines(ArrayNode into, java.util.List<ProfileReport.Line> lines, String key, boolean withKinds) {
        for (ProfileReport.Line l : lines) {
            ObjectNode o = into.addObject();
            o.put(key, l.name());
            ArrayNode ds = o.putArray("devices");
            l.devices().forEach(ds::add);
            o.put("count", l.count());
            o.put("timeMs", l.timeMs());
            o.put("share", l.share());
            o.put("gops", l.gops());
            o.put("gbps", l.gbps());
            o.put("queueWaitMs", l.queueWaitMs());
            o.put("hostMs", l.hostMs());
            o.put("bytes", l.bytes());
            o.put("operations", l.operations());
            ArrayNode fbs = o.putArray("fallbacks");
            l.fallbacks().forEach(fbs::add);
            if (withKinds) {
                ObjectNode k = o.putObject("msByOpKind");
                l.msByKind().forEach(k::put);
            }
        }
    }

    /** Writes the JSON through {@link dev.offload.io.AtomicFile}: whole or not at all. */
    public static void write(ProfileReport r, Path file) {
        dev.offload.io.AtomicFile.write(file, out -> MAPPER.writeValue(out, toJson(r)));
    }
}
