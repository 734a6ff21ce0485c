package dev.offload.model.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Finds llama.cpp's vocabulary-only GGUF files ({@code models/ggml-vocab-*.gguf} with their {@code .inp}/{@code .out}
 * expected answers) and the node-llama-cpp package that ships them, outside the repository (they are never
 * committed). Where they are looked for, first match wins:
 * <ol>
 *   <li>{@code -Doffload.llamaVocabDir=DIR} or {@code $OFFLOAD_LLAMA_VOCAB_DIR}: a folder holding the files;</li>
 *   <li>the node-llama-cpp package: {@code -Doffload.nodeLlamaCpp=DIR} or {@code $OFFLOAD_NODE_LLAMA_CPP} (only
 *       there when set), else
 *       {@code node_modules/node-llama-cpp} under {@code ~/.cache/offload/npm} or {@code /work/npm-peer}
 *       (made by {@code npm install --omit=optional --ignore-scripts node-llama-cpp@3.22.1
 *       @node-llama-cpp/linux-x64@3.22.1}). Its {@code llama/llama.cpp/models} is used when its install script
 *       unpacked the sources; otherwise the supported vocabularies' {@code models/ggml-vocab-*} files (~25 MB)
 *       are checked out of its {@code llama/gitRelease.bundle} into a folder under the system temp dir, once
 *       (a few seconds; needs git).</li>
 * </ol>
 */
public final class LlamaCppVocabs {
    /** The vocabularies offload supports among llama.cpp's test files: SPM, then BPE by pre-tokenizer. */
    static final String[] SUPPORTED = {"llama-spm", "phi-3", "llama-bpe", "qwen2", "gpt-2", "mpt", "starcoder", "refact", "command-r"};

    private LlamaCppVocabs() {}

    private static Optional<Path> configured(String property, String env) {
        String v = System.getProperty(property, System.getenv(env));
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(Path.of(v));
    }

    /** The node-llama-cpp package folder, if installed where the tests look. */
    public static Optional<Path> nodeLlamaCppPackage() {
        List<Path> candidates = new ArrayList<>();
        Optional<Path> configured = configured("offload.nodeLlamaCpp", "OFFLOAD_NODE_LLAMA_CPP");
        if (configured.isPresent()) return configured.filter(p -> Files.isRegularFile(p.resolve("package.json")));
        candidates.add(Path.of(System.getProperty("user.home"), ".cache", "offload", "npm", "node_modules", "node-llama-cpp"));
        candidates.add(Path.of("/work/npm-peer/node_modules/node-llama-cpp"));
        return candidates.stream().filter(p -> Files.isRegularFile(p.resolve("package.json"))).findFirst();
    }

    /** The folder with ggml-vocab-*.gguf, or empty with nothing found (then the tests are skipped). */
    static synchronized Optional<Path> modelsDir() {
        Optional<Path> dir = configured("offload.llamaVocabDir", "OFFLOAD_LLAMA_VOCAB_DIR");
        if (dir.isPresent()) return dir.filter(Files::isDirectory);
        Optional<Path> pkg = nodeLlamaCppPackage();
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
            for (String name : SUPPORTED) paths.add("models/ggml-vocab-" + name + ".gguf*");
            if (!git(null, "clone", "-q", "--no-checkout", bundle.toString(), partial.toString())
                    || !git(partial, paths.toArray(String[]::new))) return Optional.empty();
            try {
                Files.move(partial, checkout);
            } catch (IOException raced) {
                // another test JVM made it first; use theirs
            }
            return Optional.of(models).filter(m -> Files.isRegularFile(m.resolve("ggml-vocab-llama-spm.gguf")));
        } catch (IOException e) {
            return Optional.empty();
        }
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

    public static final String HOW_TO_GET = "llama.cpp's vocabulary files not found: install node-llama-cpp outside the repo "
            + "(mkdir -p ~/.cache/offload/npm && cd ~/.cache/offload/npm && npm install --omit=optional --ignore-scripts "
            + "node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1) or set OFFLOAD_LLAMA_VOCAB_DIR";
}
