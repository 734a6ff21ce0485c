package dev.offload.bitstream;

import dev.offload.hash.Sha256;
import dev.offload.kernels.KernelFamily;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A folder of program binaries, each beside its manifest: {@code <family>-<device>-<options8>.<ext>} and
 * {@code <family>-<device>-<options8>.json}, where {@code <device>} is the device's stable id (or, for imports,
 * its name made file-name safe) and {@code <options8>} the first 8 hex digits of the options' SHA-256.
 * The repository's {@code bitstreams/} folder is the default.
 */
public final class BitstreamStore {
    private final Path dir;

    public BitstreamStore(Path dir) { this.dir = dir; }

    public Path dir() { return dir; }

    /**
     * The configured folder ({@code OFFLOAD_BITSTREAMS}) when not null, else the {@code bitstreams/} folder of the
     * checkout the running jar was built in ({@code <root>/host/target/offload.jar}), else {@code ./bitstreams}.
     */
    public static Path defaultDir(Path configured) {
        if (configured != null) return configured;
        try {
            Path code = Path.of(BitstreamStore.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // host/target/offload.jar or host/target/classes: three levels up is the checkout.
            Path root = code.getParent() == null ? null : code.getParent().getParent();
            root = root == null ? null : root.getParent();
            if (root != null && Files.isDirectory(root.resolve("bitstreams"))) return root.resolve("bitstreams");
        } catch (URISyntaxException | RuntimeException e) {
            // no code source (unusual class loader): fall through to the working directory
        }
        return Path.of("bitstreams");
    }

    /** The file stem of an entry: {@code <family>-<device>-<options8>}. */
    public static String stem(String family, DeviceTarget target, String optionsSha256) {
        return family + "-" + target.slug() + "-" + optionsSha256.substring(0, 8);
    }

    /** SHA-256 of build options, as manifests hold it. */
    public static String optionsSha256(String options) { return Sha256.of(options); }

    /** Every manifest in the folder (none when it does not exist), sorted by file name. */
    public List<StoredBinary> entries() {
        if (!Files.isDirectory(dir)) return List.of();
        List<StoredBinary> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList()) {
                out.add(BinaryFiles.read(f));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list bitstream store " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * The entries of one family built with the given options (any device). Only manifests whose file name fits
     * ({@code <family>-*-<options8>.json}) are read: a program load must not parse the whole store.
     */
    public List<StoredBinary> entries(KernelFamily family, String options) {
        String optionsSha = Sha256.of(options);
        String prefix = family.id() + "-", suffix = "-" + optionsSha.substring(0, 8) + ".json";
        if (!Files.isDirectory(dir)) return List.of();
        List<StoredBinary> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(prefix) && n.endsWith(suffix);
            }).sorted().toList()) {
                StoredBinary e = BinaryFiles.read(f);
                if (family.id().equals(e.manifest().family()) && optionsSha.equals(e.manifest().optionsSha256())) out.add(e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list bitstream store " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Stores a binary with its manifest (replacing an entry with the same name); returns the manifest's path. */
    public Path put(BitstreamManifest manifest, byte[] binary) {
        Path manifestFile = dir.resolve(manifestFileName(manifest));
        BinaryFiles.write(manifestFile, manifest, binary);
        return manifestFile;
    }

    static String manifestFileName(BitstreamManifest m) {
        String f = m.binary().file();
        int dot = f.lastIndexOf('.');
        return (dot > 0 ? f.substring(0, dot) : f) + ".json";
    }

    @Override public String toString() { return dir.toString(); }
}
