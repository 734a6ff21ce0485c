package dev.offload.spark;

import dev.offload.session.EmbeddingSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor's sessions: one {@link EmbeddingSession} per (model options, device) per JVM, opened by the first task
 * that needs it and shared by every later task of that executor (a session is thread-safe), closed when the JVM
 * shuts down. Opening is the slow part (the model import, the weight upload, the program builds), so an executor
 * pays it once per device, not once per task or partition.
 *
 * <p>Everything here lives in the executor's JVM: it is reached through static methods from the task code and never
 * serialized.
 */
public final class ExecutorRuntime {
    private static final Logger log = LoggerFactory.getLogger(ExecutorRuntime.class);

    /** A session's identity: the options that shape it, and its device. */
    private record Key(String model, int batchSize, int maxLength, String device) {}

    private static final Map<Key, EmbeddingSession> sessions = new ConcurrentHashMap<>();
    private static final AtomicInteger opened = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorRuntime::closeAll, "offload-executor-runtime-close"));
    }

    private ExecutorRuntime() {}

    /** The JVM's session for these options on this device, opened on first use. */
    public static EmbeddingSession session(SparkEmbeddingOptions options, String deviceSpec) {
        Key key = key(options, deviceSpec);
        EmbeddingSession open = sessions.get(key);
        if (open != null) return open;
        // One opening at a time: two tasks opening their devices at once would discover OpenCL at once, and the ICD
        // loader's first platform query is not thread-safe (measured: one of the two then saw no platform).
        synchronized (ExecutorRuntime.class) {
            return openLocked(key, options, deviceSpec);
        }
    }

    private static EmbeddingSession openLocked(Key key, SparkEmbeddingOptions options, String deviceSpec) {
        return sessions.computeIfAbsent(key, k -> {
            EmbeddingSession s = EmbeddingSession.open(options.sessionOptions(deviceSpec));
            opened.incrementAndGet();
            log.info("opened {} on {} ({}) in {} ms", k.model(), deviceSpec, s.device(), Math.round(s.loadMs()));
            return s;
        });
    }

    private static Key key(SparkEmbeddingOptions options, String deviceSpec) {
        return new Key(options.model(), options.batchSize(), options.maxLength(), deviceSpec);
    }

    /** Whether this JVM holds a session for these options on this device. */
    public static boolean isOpen(SparkEmbeddingOptions options, String deviceSpec) { return sessions.containsKey(key(options, deviceSpec)); }

    /** How many sessions this JVM has opened so far (closed ones included). */
    public static int sessionsOpened() { return opened.get(); }

    /** Closes every session (at JVM shutdown; or by an application that is done with offload in this JVM). */
    public static void closeAll() {
        List<EmbeddingSession> open = new ArrayList<>(sessions.values());
        sessions.clear();
        for (EmbeddingSession s : open) {
            try {
                s.close();
            } catch (RuntimeException e) {
                log.warn("closing a session failed", e);
            }
        }
    }
}
