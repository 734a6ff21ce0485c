package dev.offload.cli;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checks a command's output paths before any work or any write, so that a bad one fails at once and nothing is left
 * half written: each must be a regular file or not exist yet (never a directory, device node or FIFO), in a folder
 * that exists or can be made, and no two outputs (or an output and an input) may name the same file.
 */
final class OutputCheck {
    private final Map<String, Path> outputs = new LinkedHashMap<>();
    private final Map<Path, String> inputs = new HashMap<>();

    /** An output option and its path (null: not asked for). */
    OutputCheck output(String option, Path file) {
        if (file != null) outputs.put(option, file);
        return this;
    }

    /** An input the outputs must not overwrite. */
    OutputCheck input(String option, Path file) {
        if (file != null) inputs.put(file.toAbsolutePath().normalize(), option);
        return this;
    }

    void check() {
        Map<Path, String> seen = new HashMap<>(inputs);
        for (var e : outputs.entrySet()) {
            String option = e.getKey();
            Path file = e.getValue(), key = file.toAbsolutePath().normalize();
            String other = seen.put(key, option);
            if (other != null) throw new UserError(option + " " + file + ": the same file as " + other);
            if (Files.isDirectory(file)) throw new UserError(option + " " + file + ": is a directory, not a file");
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new UserError(option + " " + file + ": exists and is not a regular file (a link, device or FIFO); give a file path");
            }
            Path parent = key.getParent();
            while (parent != null && !Files.exists(parent)) parent = parent.getParent();
            if (parent != null && (!Files.isDirectory(parent) || !Files.isWritable(parent))) {
                throw new UserError(option + " " + file + ": cannot be written (" + parent + " is not a writable folder)");
            }
        }
    }
}
