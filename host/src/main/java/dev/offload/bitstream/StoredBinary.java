package dev.offload.bitstream;

import java.nio.file.Path;

/** A manifest read from disk with the bytes of the binary beside it (null when that file is missing). */
public record StoredBinary(Path manifestFile, BitstreamManifest manifest, byte[] binary) {
    public Path binaryFile() { return manifestFile.resolveSibling(manifest.binary().file()); }

    /** The file name without {@code .json}: how tables and messages name the entry. */
    public String name() {
        String f = manifestFile.getFileName().toString();
        return f.endsWith(".json") ? f.substring(0, f.length() - 5) : f;
    }
}
