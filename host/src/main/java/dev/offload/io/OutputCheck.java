package dev.offload.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checks a command's output paths before any work or any write, so that a bad one fails at once and nothing is left
 * half written: each must be a regular file or not exist yet (never a directory, device node, FIFO or link), no two
 * outputs (or an output and an input) may be the same file, and the folder it goes in (or the nearest existing
 * folder above it) must accept a new file, which is tried: a read-only file system or {@code /proc} passes a
 * permission test as root and refuses the file. Every refusal is an {@link OutputFileException} naming the option.
 */
public final class OutputCheck {
    private final Map<String, Path> outputs = new LinkedHashMap<>();
    private final Map<String, Path> inputs = new LinkedHashMap<>();

    /** An output option and its path (null: not asked for). */
    public OutputCheck output(String option, Path file) {
        if (file != null) outputs.put(option, file);
        return this;
    }

    /** An input the outputs must not overwrite (null: none). */
    public OutputCheck input(String option, Path file) {
        if (file != null) inputs.put(option, file);
        return this;
    }

    public void check() {
        Map<String, Path> seen = new LinkedHashMap<>(inputs);
        for (var e : outputs.entrySet()) {
            String option = e.getKey();
            Path file = e.getValue();
            for (var other : seen.entrySet()) {
                if (sameFile(file, other.getValue())) {
                    throw new OutputFileException(option + " " + file + ": the same file as " + other.getKey() + " " + other.getValue());
                }
            }
            seen.put(option, file);
            if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new OutputFileException(option + " " + file + ": is a directory, not a file");
            }
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new OutputFileException(option + " " + file + ": exists and is not a regular file (a link, device or FIFO); give a file path");
            }
            probe(option, file);
        }
    }

    private static boolean sameFile(Path a, Path b) {
        if (a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize())) return true;
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);   // links, and other spellings of one file
        } catch (IOException e) {
            return false;
        }
    }

    /** Creates and removes an empty file where the output will go (its folder, or the nearest one that exists). */
    private static void probe(String option, Path file) {
        Path folder = file.toAbsolutePath().normalize().getParent();
        while (folder != null && !Files.exists(folder)) folder = folder.getParent();
        if (folder == null) return;
        if (!Files.isDirectory(folder)) {
            throw new OutputFileException(option + " " + file + ": cannot be written (" + folder + " is not a folder)");
        }
        try {
            Files.delete(AtomicFile.createIn(folder, ".offload-probe-"));
        } catch (IOException e) {
            throw new OutputFileException(option + " " + file + ": cannot be written (" + AtomicFile.reason(e) + ")");
        }
    }
}
