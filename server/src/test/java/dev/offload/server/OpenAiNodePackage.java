package dev.offload.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The official {@code openai} npm package, a client nobody here wrote, installed outside the repository the way the
 * llama.cpp tiers install node-llama-cpp: into {@code ~/.cache/offload/npm} with npm, on first use. Without node or
 * npm, or when the registry cannot be reached, the test that needs it is skipped with a message saying so; once the
 * package is there, a script that fails fails the test.
 */
final class OpenAiNodePackage {
    /** The newest line that runs on Node 20 (7.x needs Node 22). */
    static final String VERSION = "6.49.0";
    static final Path PREFIX = Path.of(System.getProperty("user.home"), ".cache", "offload", "npm");

    private OpenAiNodePackage() {}

    /** The package's folder, installed if it is not there yet. */
    static synchronized Path require() throws Exception {
        Path pkg = PREFIX.resolve("node_modules/openai");
        if (installedVersion(pkg).equals(VERSION)) return pkg;
        assumeTrue(works("node", "--version"), "node is not installed: the openai SDK tests are skipped");
        assumeTrue(works("npm", "--version"), "npm is not installed: the openai SDK tests are skipped");
        Files.createDirectories(PREFIX);
        Run r = run(List.of("npm", "install", "--prefix", PREFIX.toString(), "--no-audit", "--no-fund", "--ignore-scripts",
                "--save-exact", "openai@" + VERSION), 180);
        assumeTrue(r.exit() == 0 && installedVersion(pkg).equals(VERSION),
                "npm could not install openai@" + VERSION + " into " + PREFIX + " (no network?): " + tail(r.err()));
        return pkg;
    }

    /** Runs {@code node script args...}; its stdout is one JSON object. */
    static JsonNode node(Path script, List<String> args, int timeoutSeconds) throws Exception {
        List<String> command = new ArrayList<>(List.of("node", script.toString()));
        command.addAll(args);
        Run r = run(command, timeoutSeconds);
        assertEquals(0, r.exit(), "the openai client script failed:\n" + tail(r.err()));
        return RequestFields.JSON.readTree(r.out());
    }

    /** Copies a script resource of this package into {@code dir}. */
    static Path script(String name, Path dir) throws IOException {
        Path out = dir.resolve(name);
        try (InputStream in = OpenAiNodePackage.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("no test resource " + name);
            Files.copy(in, out);
        }
        return out;
    }

    private record Run(int exit, String out, String err) {}

    private static Run run(List<String> command, int timeoutSeconds) throws Exception {
        Process p = new ProcessBuilder(command).start();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        byte[] out = readAll(p.getInputStream());
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly();
        assertTrue(done, String.join(" ", command) + " took over " + timeoutSeconds + " s");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err.get(), StandardCharsets.UTF_8));
    }

    private static boolean works(String... command) {
        try {
            return run(List.of(command), 30).exit() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private static String installedVersion(Path pkg) {
        try {
            return RequestFields.JSON.readTree(pkg.resolve("package.json").toFile()).path("version").asText("");
        } catch (IOException e) {
            return "";
        }
    }

    private static byte[] readAll(InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static String tail(String s) { return s.length() > 2000 ? s.substring(s.length() - 2000) : s; }
}
