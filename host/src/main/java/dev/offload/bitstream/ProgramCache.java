package dev.offload.bitstream;

import dev.offload.hash.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binaries compiled at run time, kept on disk so that the next start skips compilation. An entry is a binary
 * and a manifest in the bitstream format, named {@code <family>-<key>}, where the key hashes the device's
 * stable id, driver version, source hash and options hash. Entries are checked like store entries before
 * they load; a bad one is rebuilt and replaced, never an error.
 */
public final class ProgramCache {
    private static final Logger log = LoggerFactory.getLogger(ProgramCache.class);

    private final Path dir;

    public ProgramCache(Path dir) { this.dir = dir; }

    public Path dir() { return dir; }

    /** The file stem of the entry for a family built from a source with options on a device. */
    static String stem(String family, DeviceTarget device, String sourceSha256, String options) {
        String key = Sha256.of(String.join("\u0000", String.valueOf(device.deviceStableId()), device.driverVersion(),
                sourceSha256, Sha256.of(options)));
        return family + "-" + key.substring(0, 20);
    }

    /** The entry, when one exists and its manifest parses. */
    Optional<StoredBinary> lookup(String family, DeviceTarget device, String sourceSha256, String options) {
        Path manifest = dir.resolve(stem(family, device, sourceSha256, options) + ".json");
        if (!Files.exists(manifest)) return Optional.empty();
        try {
            return Optional.of(BinaryFiles.read(manifest));
        } catch (RuntimeException e) {
            log.debug("ignoring unreadable program cache entry {}: {}", manifest, e.getMessage());
            return Optional.empty();
        }
    }

    /** Stores (or replaces) an entry; the manifest's binary file name must be {@code stem + ".bin"}. */
    Path put(BitstreamManifest manifest, byte[] binary) {
        Path manifestFile = dir.resolve(BitstreamStore.manifestFileName(manifest));
        BinaryFiles.write(manifestFile, manifest, binary);
        return manifestFile;
    }

    @Override public String toString() { return dir.toString(); }
}
