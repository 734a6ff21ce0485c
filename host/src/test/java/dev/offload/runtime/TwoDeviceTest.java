package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Mixed placement across two OpenCL devices: PoCL exposes two CPU devices only when told so before it loads. */
class TwoDeviceTest {
    @Test
    void aGraphSplitAcrossTwoPoclDevicesMatchesJava() throws Exception { runChild(TwoDeviceCheck.class); }

    @Test
    void microBatchesPipelineAcrossTwoDevicesAndEqualTheUnsplitRun() throws Exception { runChild(TwoDevicePipelineCheck.class); }

    private static void runChild(Class<?> check) throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", cp,
                check.getName())).redirectErrorStream(true);
        pb.environment().put("POCL_DEVICES", "pthread pthread");
        pb.environment().put("OFFLOAD_LOG_LEVEL", "WARN");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(check.getSimpleName() + " timed out; output:\n" + output);
        }
        assertEquals(0, p.exitValue(), check.getSimpleName() + " failed:\n" + output);
    }
}
