package dev.offload.bitstream;

import dev.offload.cl.Program;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The program source the CLI installs on every OpenCL device: {@link ProgramResolver} decides, this class
 * does it (load a stored or cached binary, or compile and cache), logs where each program came from, and
 * remembers it ({@link #builds()}) for profiles.
 */
public final class BitstreamProgramSource implements OpenClDevice.ProgramSource {
    private static final Logger log = LoggerFactory.getLogger(BitstreamProgramSource.class);
    /** Progress of long work, shown unless the user asked for quiet (logback.xml). */
    private static final Logger PROGRESS = LoggerFactory.getLogger("dev.offload.progress");

    private final BitstreamStore store;
    private final ProgramCache cache; // null: --no-cache
    private final List<ProgramBuild> builds = new CopyOnWriteArrayList<>();

    public BitstreamProgramSource(BitstreamStore store, ProgramCache cache) {
        this.store = store;
        this.cache = cache;
    }

    /** Every program this source produced, in order: origin, file and time. */
    public List<ProgramBuild> builds() { return List.copyOf(builds); }

    @Override
    public Program build(OpenClDevice device, KernelSource source, String options) {
        long t0 = System.nanoTime();
        DeviceTarget target = DeviceTarget.of(device.device());
        Set<String> required = KernelNames.required(source.text(), options);
        String family = source.family().id();
        Optional<StoredBinary> cached = cache == null ? Optional.empty()
                : cache.lookup(family, target, source.sha256(), options);
        var request = new ProgramResolver.Request(source, options, target, device.info().type(), required, store.dir());
        var resolution = ProgramResolver.resolve(request, store.entries(source.family(), options), cached);
        log.debug("{} for {}: {} after {} ms reading store {} and cache {}", family, target.deviceName(),
                resolution.getClass().getSimpleName(), (System.nanoTime() - t0) / 1_000_000, store.dir(), cache == null ? "(off)" : cache.dir());
        switch (resolution) {
            case ProgramResolver.Resolution.Load(StoredBinary entry, ProgramOrigin origin) -> {
                ProgramBinaries.Loaded loaded = ProgramBinaries.load(device, entry, required);
                if (loaded.ok()) return done(loaded.program(), family, options, origin, entry.binaryFile(), t0, target);
                if (origin == ProgramOrigin.STORE) {
                    throw new BitstreamMismatchException(entry.manifestFile(), target.toString(), loaded.mismatches(),
                            "Rebuild it with: " + ProgramResolver.buildCommand(request));
                }
                discard(entry, String.join("; ", loaded.mismatches()));
            }
            case ProgramResolver.Resolution.Rebuild(StoredBinary damaged, String reason) -> discard(damaged, reason);
            case ProgramResolver.Resolution.Compile(String reason) -> log.debug("compiling {} for {}: {}", family, target, reason);
            case ProgramResolver.Resolution.Refuse(String message) -> throw new BitstreamMissingException(message);
            case ProgramResolver.Resolution.Reject(BitstreamMismatchException error) -> throw error;
        }
        String stem = ProgramCache.stem(family, target, source.sha256(), options);
        // A compile takes seconds (PoCL: 1-7 s a program): say so while it happens, even when logging is quiet.
        PROGRESS.info("compiling {} kernels for {} (first use on this device and driver; cached afterwards) ...", family, target.deviceName());
        ProgramBinaries.Compiled compiled = ProgramBinaries.compile(device, source, options, stem);
        Path saved = null;
        if (cache != null) {
            try {
                saved = cache.put(compiled.manifest(), compiled.binary()).resolveSibling(stem + ".bin");
            } catch (RuntimeException e) {
                // A cache that cannot be written (full disk, read-only folder, a binary offload cannot check) costs the
                // next start a compile, nothing more.
                log.warn("cannot save the {} program to cache {}: {}", family, cache.dir(), e.getMessage());
            }
        }
        return done(compiled.program(), family, options, ProgramOrigin.COMPILED, saved, t0, target);
    }

    /**
     * A cache entry failed its checks (damaged, truncated, or for a driver that changed): it is removed and this build
     * compiles once and caches the result in its place, so the next start loads the new entry; never an error.
     */
    private void discard(StoredBinary entry, String why) {
        log.warn("program cache entry {} is damaged ({}); discarding it and compiling again", entry.manifestFile(), why);
        cache.discard(entry);
    }

    private Program done(Program p, String family, String options, ProgramOrigin origin, Path file, long t0, DeviceTarget target) {
        ProgramBuild b = new ProgramBuild(family, options, origin, file, System.nanoTime() - t0);
        builds.add(b);
        String what = switch (origin) {
            case STORE -> "loaded from store " + file;
            case CACHE -> "cache hit " + file;
            case COMPILED -> "compiled from source" + (file == null ? "" : ", cached as " + file);
        };
        log.info("program {} (options '{}') for {}: {} in {} ms", family, options, target.deviceName(), what,
                String.format("%.1f", b.millis()));
        return p;
    }
}
