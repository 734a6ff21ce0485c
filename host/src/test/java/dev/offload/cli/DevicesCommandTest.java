package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code offload devices}: what a user sees about their machine. */
class DevicesCommandTest {

    static CliRun run(String... args) { return CliRun.of(args); }

    @ParameterizedTest
    @ValueSource(strings = {"panama", "jocl"})
    void listsTheJavaDeviceAndThePoclCpuThroughEachBinding(String binding) {
        CliRun r = run("devices", "--binding", binding);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("binding: " + binding), r.out());
        assertTrue(r.out().contains("java      pure-Java reference device"), r.out());
        assertTrue(r.out().contains("cl:0:0"), r.out());
        assertTrue(r.out().contains("[CPU]"), r.out());
        assertTrue(r.out().contains("int8 dot"), r.out());
        // Which GEMM family the device gets: a CPU keeps the direct kernels, the tiled ones are there to ask for.
        assertTrue(r.out().contains("int8 gemm   direct family, int8_gemm.cl: ") && r.out().contains("tiled family on request"), r.out());
        // And which attention and decode-matvec kernels: the CPU-shaped ones.
        assertTrue(r.out().contains("attention   attention_fused (CPU-shaped"), r.out());
        assertTrue(r.out().contains("decode mv   blockq_linear ("), r.out());
    }

    /** A GPU's report (the same device, typed GPU) gets the GPU-shaped attention and decode matvec; the FPGA style never. */
    @Test
    void aGpuIsShownTheGpuShapedKernelsAndTheFpgaStyleTheCpuShapedOnes() {
        var settings = dev.offload.config.OffloadSettings.fromEnvironment();
        var registry = dev.offload.device.DeviceRegistry.discover(settings);
        var info = registry.openClDevices().getFirst().info();
        var gpu = dev.offload.testing.AsGpu.of(info, java.util.Set.of("cl_khr_subgroups"));
        String attention = DevicesCommand.attentionLine(gpu, settings);
        assertTrue(attention.startsWith("attention_tiled 16 query rows x 32 keys a tile, 16 work-items a row, sub-group reductions"), attention);
        assertTrue(DevicesCommand.attentionLine(dev.offload.testing.AsGpu.of(info, java.util.Set.of()), settings).contains("local-memory reductions"));
        String mv = DevicesCommand.matvecLine(gpu, settings);
        assertTrue(mv.startsWith("blockq_matvec_gpu (a work-group per 16 weight rows, 16 lanes a row, up to 4 rows of x)"), mv);
        assertTrue(dev.offload.ops.blockq.BlockMatmul.decodeKernel(gpu, dev.offload.device.KernelStyle.FPGA).startsWith("blockq_linear ("));
        assertTrue(DevicesCommand.attentionLine(info, settings).startsWith("attention_fused"));
    }

    @Test
    void jsonIsTheSameThroughBothBindingsApartFromTheBindingName() throws Exception {
        ObjectMapper m = new ObjectMapper();
        JsonNode p = m.readTree(run("devices", "--json", "--binding", "panama").out());
        JsonNode j = m.readTree(run("devices", "--json", "--binding", "jocl").out());
        assertEquals("offload.devices/1", p.get("schema").asText());
        assertEquals("panama", p.get("binding").asText());
        assertEquals("jocl", j.get("binding").asText());
        assertEquals(p.get("devices"), j.get("devices"));
        JsonNode cpu = p.get("devices").get(1);
        assertEquals("cl:0:0", cpu.get("spec").asText());
        assertEquals("CPU", cpu.get("type").asText());
        assertTrue(cpu.get("computeUnits").asInt() > 0);
        assertTrue(cpu.get("maxWorkItemSizes").isArray());
        assertTrue(cpu.get("integerDotProduct").has("khr"));
        assertTrue(cpu.get("attention").asText().startsWith("attention_fused"), cpu.toString());
        assertTrue(cpu.get("decodeMatvec").asText().startsWith("blockq_linear"), cpu.toString());
    }

    @Test
    void anUnknownBindingIsAOneLineErrorWithExitCode2() {
        CliRun r = run("devices", "--binding", "cuda");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown OpenCL binding 'cuda'"), r.err());
    }

    /**
     * With OpenCL made unavailable (the ICD loader pointed at an empty vendor folder) the command still works,
     * lists only java and says why. The ICD loader reads OCL_ICD_VENDORS once per process: run a child JVM.
     */
    @ParameterizedTest
    @ValueSource(strings = {"panama", "jocl"})
    void withoutOpenClOnlyJavaIsListedWithTheReason(String binding, @TempDir Path emptyVendors) throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", cp, Main.class.getName(), "devices", "--binding", binding));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("OCL_ICD_VENDORS", emptyVendors.toString());
        pb.environment().remove("OFFLOAD_DEVICE");
        File outFile = emptyVendors.resolve("out.txt").toFile();
        pb.redirectErrorStream(true).redirectOutput(outFile);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM hung");
        String out = Files.readString(outFile.toPath(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("java      pure-Java reference device"), out);
        assertTrue(!out.contains("cl:0:0"), out);
        assertTrue(out.contains("OpenCL: no OpenCL platform"), out);
        assertTrue(out.contains("apt-get install -y pocl-opencl-icd"), out);
        assertTrue(out.contains("default device: java"), out);
    }
}
