package dev.offload.server;

import java.time.Duration;

/**
 * How a server listens and admits work. Immutable; start from {@link #defaults()}.
 *
 * @param host          the address to bind (loopback by default: nothing outside the machine reaches it unless asked)
 * @param port          the port; 0 picks a free one ({@link OffloadServer#port()} says which)
 * @param maxBatch      sentences per embedding device run at most
 * @param batchWindow   how long the oldest waiting embedding request waits for others to join its run
 * @param maxQueue      requests waiting per model at most; one more is answered 429 with Retry-After
 * @param apiKey        when set, every route but {@code /health} needs {@code Authorization: Bearer <apiKey>}
 * @param maxBodyBytes  a larger request body is answered 413
 * @param idleTimeout   a connection silent this long is closed (a stalled body or a client that stopped reading)
 * @param headerTimeout a connection that has not sent a whole request head this long after it opened is closed
 *                      (slowloris: headers dribbled a byte at a time, each byte within the idle timeout)
 * @param context       KV cache positions per generation (prompt and answer), capped at the model's context
 */
public record ServerOptions(String host, int port, int maxBatch, Duration batchWindow, int maxQueue, String apiKey,
                            long maxBodyBytes, Duration idleTimeout, Duration headerTimeout, int context) {
    public ServerOptions {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("--host must name an address");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
        if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be at least 1, got " + maxBatch);
        if (batchWindow.isNegative()) throw new IllegalArgumentException("--batch-window must be >= 0");
        if (maxQueue < 1) throw new IllegalArgumentException("--max-queue must be at least 1, got " + maxQueue);
        if (apiKey != null && apiKey.isBlank()) throw new IllegalArgumentException("--api-key must not be blank");
        if (maxBodyBytes < 1) throw new IllegalArgumentException("--max-body must be at least 1 byte");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) throw new IllegalArgumentException("--idle-timeout must be > 0");
        if (headerTimeout.isNegative() || headerTimeout.isZero()) throw new IllegalArgumentException("--header-timeout must be > 0");
        if (context < 2) throw new IllegalArgumentException("--ctx must be at least 2, got " + context);
    }

    /** 127.0.0.1:8080, runs of up to 32 sentences with a 2 ms window, 256 waiting, 16 MiB bodies, 30 s idle, 10 s for a request head, 2048 positions. */
    public static ServerOptions defaults() {
        return new ServerOptions("127.0.0.1", 8080, 32, Duration.ofMillis(2), 256, null, 16L << 20,
                Duration.ofSeconds(30), Duration.ofSeconds(10), 2048);
    }

    public ServerOptions withAddress(String h, int p) {
        return new ServerOptions(h, p, maxBatch, batchWindow, maxQueue, apiKey, maxBodyBytes, idleTimeout, headerTimeout, context);
    }

    public ServerOptions withBatching(int max, Duration window) {
        return new ServerOptions(host, port, max, window, maxQueue, apiKey, maxBodyBytes, idleTimeout, headerTimeout, context);
    }

    public ServerOptions withMaxQueue(int n) {
        return new ServerOptions(host, port, maxBatch, batchWindow, n, apiKey, maxBodyBytes, idleTimeout, headerTimeout, context);
    }

    public ServerOptions withApiKey(String key) {
        return new ServerOptions(host, port, maxBatch, batchWindow, maxQueue, key, maxBodyBytes, idleTimeout, headerTimeout, context);
    }

    public ServerOptions withMaxBody(long bytes) {
        return new ServerOptions(host, port, maxBatch, batchWindow, maxQueue, apiKey, bytes, idleTimeout, headerTimeout, context);
    }

    public ServerOptions withTimeouts(Duration idle, Duration header) {
        return new ServerOptions(host, port, maxBatch, batchWindow, maxQueue, apiKey, maxBodyBytes, idle, header, context);
    }

    public ServerOptions withContext(int positions) {
        return new ServerOptions(host, port, maxBatch, batchWindow, maxQueue, apiKey, maxBodyBytes, idleTimeout, headerTimeout, positions);
    }
}
