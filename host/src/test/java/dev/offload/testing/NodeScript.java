package dev.offload.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test's Node.js script (a resource beside the test class) that asks llama.cpp, through node-llama-cpp, for
 * the answers offload is compared with, and reads the one JSON object it prints. Without node, or when the script
 * cannot run here, the test is skipped, not failed.
 */
public final class NodeScript {
    private NodeScript() {}

    /** Copies the script resource {@code name} of {@code test}'s package into {@code dir}. */
    public static Path copy(Class<?> test, String name, Path dir) throws IOException {
        Path out = dir.resolve(name);
        try (InputStream in = test.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("no test resource " + name + " beside " + test.getName());
            Files.copy(in, out);
        }
        return out;
    }

    /** Runs {@code node script args...} and parses its stdout. */
    public static JsonNode run(Path script, List<String> args, int timeoutSeconds) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("node", script.toString()));
        command.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            assumeTrue(false, "node is not installed: " + e.getMessage());
            throw e;
        }
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), "node took over " + timeoutSeconds + " s");
        assumeTrue(p.exitValue() == 0, "node-llama-cpp could not run here (exit " + p.exitValue() + ")");
        return new ObjectMapper().readTree(new String(out, StandardCharsets.UTF_8));
    }
}
