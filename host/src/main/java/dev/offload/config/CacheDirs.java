package dev.offload.config;

import java.nio.file.Path;

/**
 * Where offload keeps what it measures or builds once per machine, under one root: built programs
 * ({@code programs/}), the user's tuning database ({@code tuning.json}), the auto-placer's measurements
 * ({@code autoplace.json}) and the seeded model files the benchmarks make and the demo model copied out of the jar ({@code models/}). The root is
 * {@code $OFFLOAD_CACHE_DIR}, else {@code $XDG_CACHE_HOME/offload}, else {@code ~/.cache/offload}.
 */
public record CacheDirs(Path root) {
    public static final String ENV = "OFFLOAD_CACHE_DIR";

    /**
     * The root from its three possible sources (null or blank: not set).
     *
     * @param offloadCacheDir $OFFLOAD_CACHE_DIR
     * @param xdgCacheHome    $XDG_CACHE_HOME
     * @param userHome        the user's home directory
     */
    public static CacheDirs resolve(String offloadCacheDir, String xdgCacheHome, String userHome) {
        if (set(offloadCacheDir)) return new CacheDirs(Path.of(offloadCacheDir.strip()));
        Path base = set(xdgCacheHome) ? Path.of(xdgCacheHome.strip()) : Path.of(userHome, ".cache");
        return new CacheDirs(base.resolve("offload"));
    }

    /** The program cache folder. */
    public Path programs() { return root.resolve("programs"); }

    /** The user's tuning database, which {@code offload tune} writes. */
    public Path tuningFile() { return root.resolve("tuning.json"); }

    /** The auto-placer's cache of measured op times and bandwidths. */
    public Path autoplaceFile() { return root.resolve("autoplace.json"); }

    /** Model files made here (seeded decoders for the benchmarks, the demo model's copy); regenerable, never in the repository. */
    public Path models() { return root.resolve("models"); }

    private static boolean set(String s) { return s != null && !s.isBlank(); }
}
