package dev.offload.bitstream;

import dev.offload.io.AtomicFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading manifests with their binaries, and writing both so that no reader ever sees half a file. */
final class BinaryFiles {
    private BinaryFiles() {}

    /**
     * Writes the binary, then the manifest, each through {@link AtomicFile} (a temporary file renamed into place;
     * a failure is an {@link dev.offload.io.OutputFileException}). The manifest comes
     * last: a reader that finds it finds the complete binary it describes (or, after a concurrent writer
     * replaced the binary, one whose checksum disagrees, which every reader checks).
     */
    static void write(Path manifestFile, BitstreamManifest manifest, byte[] binary) {
        AtomicFile.write(binaryPath(manifestFile, manifest.binary().file()), binary);
        AtomicFile.write(manifestFile, manifest.toJson().getBytes(StandardCharsets.UTF_8));
    }

    /** Manifests are a few KiB; anything near this is not one. */
    static final long MAX_MANIFEST_BYTES = 1 << 20;
    /** The largest program binary read (FPGA bitstreams run to hundreds of MB; Java arrays stop below 2 GiB). */
    static final long MAX_BINARY_BYTES = 1L << 30;

    /**
     * The manifest and its binary; a missing binary is read as null (the checks report it). What a manifest names
     * must be a plain file name in the manifest's own folder (no path, no "..", not absolute), a regular file and
     * not a link, and of bounded size, so that a hostile manifest can neither read outside the store, nor hang on a
     * FIFO, nor exhaust the heap on /dev/zero; each refusal is one line naming the manifest.
     */
    static StoredBinary read(Path manifestFile) {
        try {
            BitstreamManifest m = BitstreamManifest.fromJson(new String(readBounded(manifestFile, MAX_MANIFEST_BYTES, named(manifestFile, manifestFile)),
                    StandardCharsets.UTF_8), manifestFile.toString());
            Path binary = binaryPath(manifestFile, m.binary().file());
            byte[] bin = Files.exists(binary, LinkOption.NOFOLLOW_LINKS) ? readBounded(binary, MAX_BINARY_BYTES, named(manifestFile, binary)) : null;
            return new StoredBinary(manifestFile, m, bin);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + manifestFile + ": " + e.getMessage(), e);
        }
    }

    private static String named(Path manifestFile, Path file) { return "bitstream manifest " + manifestFile + ": " + file.getFileName(); }

    /** Where the manifest's {@code binary.file} lives: beside it, or an IllegalArgumentException naming the manifest. */
    static Path binaryPath(Path manifestFile, String name) {
        if (name == null || name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals(".") || name.equals("..")
                || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("bitstream manifest " + manifestFile + ": binary.file must be a file name in the"
                    + " manifest's folder, not '" + name + "'");
        }
        return manifestFile.resolveSibling(name);
    }

    /**
     * The bytes of a regular file (not a link, FIFO or device) of at most {@code max} bytes; a refusal names the file
     * as {@code who} does.
     */
    static byte[] readBounded(Path file, long max, String who) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) throw new NoSuchFileException(file.toString());
            throw new IllegalArgumentException(who + " is not a regular file (a link, directory, FIFO or device); refusing to read it");
        }
        long size = Files.size(file);
        if (size > max) throw new IllegalArgumentException(who + " is larger than " + max + " bytes; refusing to read it");
        return Files.readAllBytes(file);
    }
}
