package dev.offload.bitstream;

import dev.offload.device.OpenClDevice;
import java.nio.file.Path;

/**
 * Where programs come from, as the CLI configures it: a bitstream store folder and a program cache folder
 * (null: no cache, {@code --no-cache}). {@link #install} puts a {@link BitstreamProgramSource} on a device.
 */
public record ProgramStore(Path storeDir, Path cacheDir) {

    /** The store and cache named by the environment ({@link BitstreamStore#defaultDir}, {@link ProgramCache#defaultDir}). */
    public static ProgramStore fromEnvironment() {
        return new ProgramStore(BitstreamStore.defaultDir(), ProgramCache.defaultDir());
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
