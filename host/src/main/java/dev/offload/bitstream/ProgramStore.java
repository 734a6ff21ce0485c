package dev.offload.bitstream;

import dev.offload.config.CacheDirs;
import dev.offload.config.OffloadSettings;
import dev.offload.device.OpenClDevice;
import java.nio.file.Path;

/**
 * Where programs come from, as the CLI configures it: a bitstream store folder and a program cache folder
 * (null: no cache, {@code --no-cache}). {@link #install} puts a {@link BitstreamProgramSource} on a device.
 */
public record ProgramStore(Path storeDir, Path cacheDir) {

    /** The store and cache of this process's settings ({@link OffloadSettings#current}, read from the environment). */
    public static ProgramStore fromEnvironment() { return of(OffloadSettings.current()); }

    /** The settings' store ({@link BitstreamStore#defaultDir}) and program cache ({@link CacheDirs#programs}). */
    public static ProgramStore of(OffloadSettings settings) {
        return new ProgramStore(BitstreamStore.defaultDir(settings.bitstreams()), settings.cache().programs());
    }

    public ProgramStore withStore(Path dir) { return new ProgramStore(dir, cacheDir); }

    public ProgramStore withCache(Path dir) { return new ProgramStore(storeDir, dir); }

    public ProgramStore withoutCache() { return new ProgramStore(storeDir, null); }

    public BitstreamStore store() { return new BitstreamStore(storeDir); }

    public BitstreamProgramSource programSource() {
        return new BitstreamProgramSource(store(), cacheDir == null ? null : new ProgramCache(cacheDir));
    }

    /** Makes the device take its programs from this store and cache; returns the source for its build records. */
    public BitstreamProgramSource install(OpenClDevice device) {
        BitstreamProgramSource s = programSource();
        device.programSource(s);
        return s;
    }
}
