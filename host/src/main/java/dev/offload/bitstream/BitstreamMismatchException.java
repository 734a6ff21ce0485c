package dev.offload.bitstream;

import java.nio.file.Path;
import java.util.List;

/** A stored binary that must not be loaded: its checksum, target, driver, source or kernel set disagrees. */
public final class BitstreamMismatchException extends RuntimeException {
    private final Path file;
    private final List<String> mismatches;

    public BitstreamMismatchException(Path file, String device, List<String> mismatches, String whatToDo) {
        super("bitstream " + file + " does not match " + device + ": " + String.join("; ", mismatches)
                + (whatToDo == null ? "" : ". " + whatToDo));
        this.file = file;
        this.mismatches = List.copyOf(mismatches);
    }

    /** The manifest of the refused binary. */
    public Path file() { return file; }

    public List<String> mismatches() { return mismatches; }
}
