package dev.offload.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.peer.NodeLlamaCpp;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs a test's Node.js script (a resource beside the test class) that asks llama.cpp, through node-llama-cpp, for
 * the answers offload is compared with, and reads the one JSON object it prints. Without node, or when the script
 * cannot run here, the test is skipped with the reason, not failed; a script that hangs fails it.
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
        try {
            return NodeLlamaCpp.run(script, args, timeoutSeconds);
        } catch (NodeLlamaCpp.ScriptFailed e) {
            assertFalse(e.timedOut(), e.getMessage());
            assumeTrue(false, "llama.cpp could not answer here: " + e.getMessage());
            throw e;
        }
    }
}
