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
 * they load; a bad one is discarded, rebuilt once and replaced, with a warning, never an error. Only binaries whose
 * layout is sound ({@link BitstreamChecks#layout}) are stored, so an entry that failed cannot come back as it was.
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

    /**
     * Stores (or replaces) an entry; the manifest's binary file name must be {@code stem + ".bin"}. A binary whose
     * layout offload cannot vouch for is not stored (an IllegalStateException says why): loading it back later would
     * be refused anyway, and compiling it again every start is what not caching it costs.
     */
    Path put(BitstreamManifest manifest, byte[] binary) {
        Path manifestFile = dir.resolve(BitstreamStore.manifestFileName(manifest));
        Check layout = BitstreamChecks.layout(new StoredBinary(manifestFile, manifest, binary));
        if (layout.failed()) throw new IllegalStateException("not caching a binary offload cannot check: " + layout.detail());
        BinaryFiles.write(manifestFile, manifest, binary);
        return manifestFile;
    }

    /**
     * Removes an entry that failed its checks, manifest first (a reader that finds no manifest never reads the
     * binary). A file that cannot be removed is logged: the entry is replaced by the next put anyway.
     */
    void discard(StoredBinary entry) {
        for (Path f : new Path[] {entry.manifestFile(), entry.binaryFile()}) {
            try {
                Files.deleteIfExists(f);
            } catch (java.io.IOException | RuntimeException e) {
                log.debug("cannot remove damaged program cache file {}: {}", f, e.getMessage());
            }
        }
    }

    @Override public String toString() { return dir.toString(); }
}
