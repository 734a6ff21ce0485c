package dev.offload.model.gguf;

import java.nio.file.Path;

/**
 * A GGUF file that cannot be read as the format says: truncated, inconsistent, hostile or of a kind offload does
 * not know. The message is one line, "FILE: problem", so the command line can print it as it is (exit code 2).
 * It is an {@link IllegalArgumentException} because the file is the caller's input.
 */
public final class GgufFormatException extends IllegalArgumentException {
    private final transient Path file;

    public GgufFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** The file the problem is in. */
    public Path file() { return file; }
}
