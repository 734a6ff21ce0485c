package dev.offload.tuning;

import dev.offload.config.CacheDirs;
import dev.offload.config.OffloadSettings;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where tuned parameters come from, in order: the user's cache (written by {@code offload tune}), then the
 * database kept in the repository for the devices we have measured. Callers fall back to built-in defaults when
 * neither has an entry.
 *
 * @param userCache  the user's tuning file ({@code tuning.json} under the cache root, see {@link CacheDirs})
 * @param repository the repository's database
 */
public record TuningStore(Path userCache, TuningDb repository) {
    private static final Logger log = LoggerFactory.getLogger(TuningStore.class);
    public static final String REPOSITORY_RESOURCE = "dev/offload/tuning/tuning-db.json";

    /** Where a set of parameters came from. */
    public enum Source {
        /** The user's cache: measured by `offload tune` on this machine. */
        TUNED("tuned"),
        /** The repository's database: measured by us on a device of the same name and driver. */
        DB("db"),
        /** Neither had an entry: the op's built-in defaults. */
        DEFAULT("default");

        private final String label;

        Source(String label) { this.label = label; }

        public String label() { return label; }
    }

    /** A found entry and which layer it came from. */
    public record Found(TunedEntry entry, Source source) {}

    /** The user cache under this process's cache root ({@link OffloadSettings#current}) and the repository's database. */
    public static TuningStore standard() { return standard(OffloadSettings.current().cache()); }

    /** The user cache under a cache root and the repository's database. */
    public static TuningStore standard(CacheDirs cache) {
        return new TuningStore(cache.tuningFile(), RepositoryDb.INSTANCE);
    }

    /** A store with only a user cache file (tests, `tune --db`). */
    public static TuningStore of(Path userCache) {
        return new TuningStore(userCache, TuningDb.empty());
    }


    /**
     * The entry for an op on a device and driver: the user cache first, then the repository. A user cache that
     * cannot be read is logged and skipped (the repository and the defaults still work).
     */
    public Optional<Found> find(String op, String deviceName, String driverVersion) {
        if (userCache != null) {
            try {
                Optional<TunedEntry> e = TuningDb.read(userCache).find(op, deviceName, driverVersion);
                if (e.isPresent()) return Optional.of(new Found(e.get(), Source.TUNED));
            } catch (RuntimeException e) {
                log.warn("ignoring the tuning cache {}: {}", userCache, e.getMessage());
            }
        }
        return repository.find(op, deviceName, driverVersion).map(e -> new Found(e, Source.DB));
    }

    /** The repository database, read once. */
    private static final class RepositoryDb {
        static final TuningDb INSTANCE = TuningDb.resource(REPOSITORY_RESOURCE);
    }
}
