package dev.offload.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp, offload's peer for decoders, as the node-llama-cpp npm package (MIT) ships it: llama.cpp with a prebuilt
 * CPU backend ({@code @node-llama-cpp/linux-x64}), its sources as a git bundle, and Node.js bindings that the tests'
 * and the bench's scripts drive. It lives outside the repository and is never committed. This class is the one place
 * Java code finds it:
 * <ol>
 *   <li>{@code -Doffload.nodeLlamaCpp=DIR} or {@code $OFFLOAD_NODE_LLAMA_CPP}: the package folder (only there when
 *       set);</li>
 *   <li>else {@code ~/.cache/offload/npm/node_modules/node-llama-cpp}, where {@code ./offload test} and
 *       {@code ./offload bench} install version {@value #VERSION} when node and npm are present (the launcher's
 *       {@code ensure_node_llama_cpp}).</li>
 * </ol>
 * llama.cpp's vocabulary-only GGUF files ({@code models/ggml-vocab-NAME.gguf} with their {@code .inp}/{@code .out}
 * test answers) come from {@code -Doffload.llamaVocabDir=DIR} / {@code $OFFLOAD_LLAMA_VOCAB_DIR}, else from the
 * package: its unpacked sources, or checked out of its {@code llama/gitRelease.bundle} once into the system temp dir
 * (a few seconds; needs git).
 */
public final class NodeLlamaCpp {
    /** The version the launcher installs and the scripts are written against. */
    public static final String VERSION = "3.22.1";

    /** The vocabularies offload's tokenizers support among llama.cpp's test files: SPM, then BPE by pre-tokenizer. */
    public static final List<String> VOCABULARIES = List.of("llama-spm", "phi-3", "llama-bpe", "qwen2", "gpt-2", "mpt", "starcoder", "refact", "command-r");

    public static final String HOW_TO_GET = "node-llama-cpp (llama.cpp, the peer) is not installed: ./offload test and ./offload bench install it"
            + " when node, npm and the network are there; by hand: mkdir -p ~/.cache/offload/npm && cd ~/.cache/offload/npm && npm install"
            + " --omit=optional --ignore-scripts node-llama-cpp@" + VERSION + " @node-llama-cpp/linux-x64@" + VERSION
            + " (or set OFFLOAD_NODE_LLAMA_CPP to a package folder, OFFLOAD_LLAMA_VOCAB_DIR to a folder of ggml-vocab-*.gguf)";

    private NodeLlamaCpp() {}

    private static Optional<Path> configured(String property, String env) {
        String v = System.getProperty(property, System.getenv(env));
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(Path.of(v));
    }

    /** The node-llama-cpp package folder, if installed where it is looked for. */
    public static Optional<Path> packageDir() {
        Path dir = configured("offload.nodeLlamaCpp", "OFFLOAD_NODE_LLAMA_CPP")
                .orElse(Path.of(System.getProperty("user.home"), ".cache", "offload", "npm", "node_modules", "node-llama-cpp"));
        return Optional.of(dir).filter(p -> Files.isRegularFile(p.resolve("package.json")));
    }

    /** The package folder when its prebuilt backend ({@code @node-llama-cpp/<platform>}) is installed beside it. */
    public static Optional<Path> packageWithBackend() {
        return packageDir().filter(p -> Files.isDirectory(p.getParent().resolve("@node-llama-cpp")));
    }

    /** Why llama.cpp cannot run here, or empty when its package and backend are installed. */
    public static Optional<String> unavailableReason() {
        if (packageDir().isEmpty()) return Optional.of(HOW_TO_GET);
        if (packageWithBackend().isEmpty()) {
            return Optional.of("node-llama-cpp's prebuilt backend (@node-llama-cpp/linux-x64) is not installed next to " + packageDir().get());
        }
        return Optional.empty();
    }

    /** The folder with llama.cpp's {@code ggml-vocab-*.gguf} files for {@link #VOCABULARIES}, or empty. */
    public static synchronized Optional<Path> vocabularies() {
        Optional<Path> dir = configured("offload.llamaVocabDir", "OFFLOAD_LLAMA_VOCAB_DIR");
        if (dir.isPresent()) return dir.filter(Files::isDirectory);
        Optional<Path> pkg = packageDir();
        if (pkg.isEmpty()) return Optional.empty();
        Path unpacked = pkg.get().resolve("llama/llama.cpp/models");
        if (Files.isRegularFile(unpacked.resolve("ggml-vocab-llama-spm.gguf"))) return Optional.of(unpacked);
        Path bundle = pkg.get().resolve("llama/gitRelease.bundle");
        if (!Files.isRegularFile(bundle)) return Optional.empty();
        try {
            Path checkout = Path.of(System.getProperty("java.io.tmpdir"), "offload-llama-vocabs-" + Files.size(bundle));
            Path models = checkout.resolve("models");
            if (Files.isRegularFile(models.resolve("ggml-vocab-llama-spm.gguf"))) return Optional.of(models);
            Path partial = Files.createTempDirectory("offload-llama-vocab-");
            List<String> paths = new ArrayList<>(List.of("checkout", "-q", "HEAD", "--"));
            for (String name : VOCABULARIES) paths.add("models/ggml-vocab-" + name + ".gguf*");
            if (!git(null, "clone", "-q", "--no-checkout", bundle.toString(), partial.toString())
                    || !git(partial, paths.toArray(String[]::new))) return Optional.empty();
            try {
                Files.move(partial, checkout);
            } catch (IOException raced) {
                // another JVM made it first; use theirs
            }
            return Optional.of(models).filter(m -> Files.isRegularFile(m.resolve("ggml-vocab-llama-spm.gguf")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** llama.cpp's {@code ggml-vocab-NAME.gguf}, if present. */
    public static Optional<Path> vocabulary(String name) {
        return vocabularies().map(d -> d.resolve("ggml-vocab-" + name + ".gguf")).filter(Files::isRegularFile);
    }

    /** A script could not give its answer here: node is missing, or it failed (the message says how). */
    public static final class ScriptFailed extends Exception {
        private final boolean timedOut;

        ScriptFailed(String message, boolean timedOut) {
            super(message);
            this.timedOut = timedOut;
        }

        /** It ran but did not finish in time (a hang, not a missing piece). */
        public boolean timedOut() { return timedOut; }
    }

    /**
     * Runs {@code node script args...} and parses the one JSON value it prints on stdout; the script's stderr is kept
     * for the failure message (its last lines).
     */
    public static JsonNode run(Path script, List<String> args, int timeoutSeconds) throws ScriptFailed, IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("node", script.toString()));
        command.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new ScriptFailed("node is not installed: " + e.getMessage(), false);
        }
        p.getOutputStream().close();
        // Both streams drained on their own threads, so a script that prints much cannot block and the timeout holds.
        java.util.concurrent.Executor reader = r -> Thread.ofPlatform().daemon().name("node-output").start(r);
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()), reader);
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()), reader);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new ScriptFailed(script.getFileName() + " took over " + timeoutSeconds + " s", true);
        }
        if (p.exitValue() != 0) {
            throw new ScriptFailed(script.getFileName() + " exited with " + p.exitValue() + ": " + tail(new String(err.join(), StandardCharsets.UTF_8)), false);
        }
        return new ObjectMapper().readTree(new String(out.join(), StandardCharsets.UTF_8));
    }

    private static byte[] readAll(java.io.InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static String tail(String text) {
        List<String> lines = text.strip().lines().toList();
        return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
    }

    private static boolean git(Path dir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        if (dir != null) pb.directory(dir.toFile());
        try {
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false; // no git on this machine
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
