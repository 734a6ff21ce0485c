package dev.offload.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

/**
 * Discovery and device choice. This module's tests run with {@code POCL_DEVICES="pthread pthread"} (pom.xml): two
 * PoCL CPU devices, cl:0:0 and cl:0:1.
 */
class DiscoveryTest {

    @Test
    void devicesSparkResourcesPrintsOneLineInSparksDiscoveryFormat() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        assertEquals(0, cli.execute("devices", "--spark-resources", "fpga"), err.toString());
        assertEquals("{\"name\":\"fpga\",\"addresses\":[\"cl:0:0\",\"cl:0:1\"]}" + System.lineSeparator(), out.toString());
    }

    /** The script Spark runs: no arguments, the resource name from the environment, only the JSON on stdout. */
    @Test
    void theDiscoveryScriptPrintsWhatSparkParses() throws Exception {
        TestLauncher.write();
        ProcessBuilder pb = new ProcessBuilder("bin/offload-discover.sh");
        pb.environment().put("OFFLOAD_SPARK_RESOURCE", "offload");
        Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the script hung");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        // Spark's own parser, as the worker reads the script's output.
        ResourceInformation r = ResourceInformation.parseJson(out);
        assertEquals("offload", r.name());
        assertEquals(java.util.List.of("cl:0:0", "cl:0:1"), java.util.List.of(r.addresses()));
        JsonNode json = new ObjectMapper().readTree(out);
        assertEquals(2, json.size(), "name and addresses only: " + out);
    }

    @Test
    void aTaskRunsOnItsFirstAssignedAddressElseOnTheCpuDevice() {
        ResourceInformation two = new ResourceInformation("offload", new String[] {"cl:0:1", "cl:0:0"});
        assertEquals(new TaskDevice("cl:0:1", true), TaskDevice.of(Map.of("offload", two), "offload"));
        TaskDevice fallback = TaskDevice.of(Map.of("offload", two), "fpga");
        assertEquals(TaskDevice.CPU, fallback.spec());
        assertFalse(fallback.assigned());
        // Outside any task (the driver): the fallback as well.
        assertEquals(new TaskDevice(TaskDevice.CPU, false), TaskDevice.current("offload"));
    }
}
