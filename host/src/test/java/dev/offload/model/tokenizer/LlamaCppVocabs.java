package dev.offload.model.tokenizer;

import dev.offload.peer.NodeLlamaCpp;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The tests' view of llama.cpp's vocabulary-only GGUF files and the node-llama-cpp package that ships them; where
 * they are found is {@link NodeLlamaCpp}'s business (outside the repository; never committed).
 */
public final class LlamaCppVocabs {
    /** The vocabularies offload supports among llama.cpp's test files: SPM, then BPE by pre-tokenizer. */
    static final String[] SUPPORTED = NodeLlamaCpp.VOCABULARIES.toArray(String[]::new);

    private LlamaCppVocabs() {}

    /** The node-llama-cpp package folder, if installed with its prebuilt backend. */
    public static Optional<Path> nodeLlamaCppPackage() { return NodeLlamaCpp.packageWithBackend(); }

    /** The folder with ggml-vocab-*.gguf, or empty with nothing found (then the tests are skipped). */
    static Optional<Path> modelsDir() { return NodeLlamaCpp.vocabularies(); }

    public static final String HOW_TO_GET = NodeLlamaCpp.HOW_TO_GET;
}
