package dev.offload.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.cli.Main;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code offload profile} end to end on a tiny synthetic model: table, JSON, trace and chart. */
class ProfileCommandTest {
    private static final String MODEL = "synthetic:arch=decoder,layers=2,hidden=32,heads=4,kv-heads=2,ffn=48,seq=6,batch=2";

    private record Outcome(int code, String out, String err) {}

    private static Outcome run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Outcome(code, out.toString(), err.toString());
    }

    @Test
    void profilePrintsTheTableAndWritesJsonTraceAndChart(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("p.json"), trace = dir.resolve("t.json"), chart = dir.resolve("c.svg");
        Outcome o = run("profile", "--model", MODEL, "--device", "cl:cpu", "--iterations", "2", "--warmup", "1",
                "--json", json.toString(), "--trace", trace.toString(), "--chart", chart.toString());
        assertEquals(0, o.code(), o.out() + o.err());
        for (String expected : new String[] {"per layer", "layer.0", "layer.1", "per op kind", "rms_norm", "linear", "quantize",
                "latency", "tokens/s"}) {
            assertTrue(o.out().contains(expected), "missing '" + expected + "' in:\n" + o.out());
        }
        ObjectMapper m = new ObjectMapper();

        JsonNode p = m.readTree(json.toFile());
        assertEquals(ProfileJson.SCHEMA, p.get("schema").asText());
        assertEquals(2, p.get("iterations").asInt());
        double share = 0;
        for (JsonNode k : p.get("opKinds")) share += k.get("share").asDouble();
        assertEquals(1.0, share, 1e-9, "op kind shares add up to 1");
        assertTrue(p.get("totals").get("tokensPerSecond").asDouble() > 0);
        // The weights on the device as uploaded: int8 GEMM weights packed (padded, with zero points and column sums).
        JsonNode resident = p.get("residentWeightBytes");
        assertEquals(1, resident.size(), resident.toString());
        long residentBytes = resident.elements().next().asLong();
        assertTrue(residentBytes >= p.get("weightBytes").asLong(), residentBytes + " resident, " + p.get("weightBytes") + " in the graph");
        assertTrue(o.out().contains("(resident: "), o.out());
        // Every op kind of the synthetic decoder has an OpenCL kernel: nothing falls back to java.
        assertFalse(o.out().contains("fallback"), o.out());
        assertFalse(p.get("fallbacks").has("layer.0.attn.q"), p.get("fallbacks").toString());

        JsonNode t = m.readTree(trace.toFile());
        Set<Integer> tids = new HashSet<>(), named = new HashSet<>();
        int complete = 0;
        for (JsonNode e : t.get("traceEvents")) {
            String ph = e.get("ph").asText();
            assertTrue(e.has("pid") && e.has("tid") && e.has("name"), e.toString());
            if (ph.equals("X")) {
                complete++;
                assertTrue(e.get("ts").isNumber() && e.get("dur").asDouble() >= 0, e.toString());
                tids.add(e.get("tid").asInt());
            } else {
                assertEquals("M", ph);
                if (e.get("name").asText().equals("thread_name")) named.add(e.get("tid").asInt());
            }
        }
        int nodes = SyntheticModel.build(SyntheticSpec.parse(MODEL)).nodes().size();
        assertTrue(complete >= 2 * nodes, "one event per op per run (" + nodes + " ops), got " + complete);
        assertTrue(tids.size() >= 2, "runs and the device queue tracks: " + tids);
        assertTrue(named.containsAll(tids), "every track is named");

        var svg = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(chart.toFile());
        assertEquals("svg", svg.getDocumentElement().getTagName());
        String text = Files.readString(chart);
        assertTrue(text.contains("layer.1") && text.contains("linear") && text.contains("<rect"), "bars, labels and legend");
    }

    @Test
    void strictSucceedsWhenEveryOpHasAKernelOnItsDevice() {
        // (A refused fallback is GraphRuntimeTest.strictTurnsAFallbackIntoAnError: every synthetic op kind has a kernel now.)
        Outcome o = run("profile", "--model", MODEL, "--device", "cl:cpu", "--iterations", "1", "--warmup", "0", "--strict");
        assertEquals(0, o.code(), o.out() + o.err());
        assertFalse(o.out().contains("fallback"), o.out());
    }

    @Test
    void decodeStepsShowAsDecodeRowsWithTokensPerSecondInTableAndJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("p.json");
        Outcome o = run("profile", "--model", MODEL, "--device", "cl:cpu", "--iterations", "1", "--warmup", "0",
                "--decode-steps", "3", "--json", json.toString());
        assertEquals(0, o.code(), o.out() + o.err());
        assertTrue(o.out().contains("decode:layer.0") && o.out().contains("decode:layer.1"), o.out());
        assertTrue(o.out().contains("decode    3 steps after a 6-token prefill"), o.out());
        JsonNode p = new ObjectMapper().readTree(json.toFile());
        Set<String> layers = new HashSet<>();
        for (JsonNode l : p.get("layers")) layers.add(l.get("layer").asText());
        assertTrue(layers.contains("decode:layer.1") && layers.contains("layer.1"), layers.toString());
        JsonNode decode = p.get("totals").get("decode");
        assertEquals(3, decode.get("steps").asInt());
        assertTrue(decode.get("msPerStep").asDouble() > 0 && decode.get("tokensPerSecond").asDouble() > 0, decode.toString());
    }

    @Test
    void microBatchesMustDivideTheBatchAndDecodeNeedsADecoder() {
        Outcome split = run("profile", "--model", MODEL, "--device", "cl:cpu", "--iterations", "1", "--warmup", "0", "--micro-batches", "2");
        assertEquals(0, split.code(), split.out() + split.err());
        Outcome three = run("profile", "--model", MODEL, "--micro-batches", "3");
        assertEquals(2, three.code());
        assertTrue(three.err().contains("--micro-batches must divide the batch (2)"), three.err());
        Outcome encoder = run("profile", "--model", "synthetic:arch=encoder,layers=1,hidden=32,heads=4,ffn=48,seq=6,batch=2", "--decode-steps", "2");
        assertEquals(2, encoder.code());
        assertTrue(encoder.err().contains("--decode-steps needs arch=decoder"), encoder.err());
    }

    @Test
    void badArgumentsAreOneLineErrors() {
        Outcome o = run("profile", "--model", "synthetic:arch=decoder,hidden=10,heads=3");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("multiple of heads"), o.err());
        Outcome both = run("profile", "--model", MODEL, "--device", "java", "--placement", "*=java");
        assertEquals(2, both.code());
    }
}
