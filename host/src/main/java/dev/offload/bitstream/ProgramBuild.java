package dev.offload.bitstream;

import java.nio.file.Path;

/**
 * How one program of a device was obtained, for logs and profiles.
 *
 * @param file  the binary it was loaded from, or the cache file a compiled binary was saved to (null when none)
 * @param nanos host time to obtain the program: reading, checking and loading a binary, or compiling
 */
public record ProgramBuild(String family, String options, ProgramOrigin origin, Path file, long nanos) {
    public double millis() { return nanos / 1e6; }
}
