package dev.offload.bitstream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Reading manifests with their binaries, and writing both so that no reader ever sees half a file. */
final class BinaryFiles {
    private BinaryFiles() {}

    /**
     * Writes the binary, then the manifest, each to a temporary file renamed into place. The manifest comes
     * last: a reader that finds it finds the complete binary it describes (or, after a concurrent writer
     * replaced the binary, one whose checksum disagrees, which every reader checks).
     */
    static void write(Path manifestFile, BitstreamManifest manifest, byte[] binary) {
        try {
            Files.createDirectories(manifestFile.toAbsolutePath().getParent());
            atomicWrite(manifestFile.resolveSibling(manifest.binary().file()), binary);
            atomicWrite(manifestFile, manifest.toJson().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + manifestFile + ": " + e.getMessage(), e);
        }
    }

    private static void atomicWrite(Path target, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The manifest and its binary; a missing binary is read as null (the checks report it). */
    static StoredBinary read(Path manifestFile) {
        try {
            BitstreamManifest m = BitstreamManifest.fromJson(Files.readString(manifestFile), manifestFile.toString());
            byte[] bin;
            try {
                bin = Files.readAllBytes(manifestFile.resolveSibling(m.binary().file()));
            } catch (NoSuchFileException e) {
                bin = null;
            }
            return new StoredBinary(manifestFile, m, bin);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + manifestFile + ": " + e.getMessage(), e);
        }
    }
}
