package dev.offload.server;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The OpenAI-compatible HTTP server over open models, on Jetty 12 (its core API, no servlets). Jetty reads and parses
 * on a few selector and worker threads; each request whose head is complete runs on a virtual thread of its own,
 * which may wait for its model's batcher or scheduler. Every encoder gets an {@link EmbeddingBatcher}, every decoder a
 * {@link SerialGenerationScheduler}. The models stay open after {@link #close}: they belong to whoever opened them.
 */
public final class OffloadServer implements AutoCloseable {
    private final Server jetty;
    private final ServerConnector connector;
    private final ServerMetrics metrics = new ServerMetrics();
    private final Map<String, EmbeddingBatcher> batchers = new LinkedHashMap<>();
    private final Map<String, GenerationScheduler> schedulers = new LinkedHashMap<>();
    private final ExecutorService virtualThreads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("offload-request-", 0).factory());

    private OffloadServer(ServerOptions options, ServedModels models) {
        for (ServedModel m : models.all()) {
            switch (m) {
                case ServedModel.Encoder e -> batchers.put(e.id(), new EmbeddingBatcher(e.id(), e.session(), options.maxBatch(),
                        options.maxQueue(), options.batchWindow(), metrics));
                case ServedModel.Decoder d -> schedulers.put(d.id(), new SerialGenerationScheduler(d.id(), d.session(), options.maxQueue(), metrics));
            }
        }
        QueuedThreadPool threads = new QueuedThreadPool(16, 4);
        threads.setName("offload-http");
        threads.setVirtualThreadsExecutor(virtualThreads);
        jetty = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
        connector.setHost(options.host());
        connector.setPort(options.port());
        connector.setIdleTimeout(options.idleTimeout().toMillis());
        connector.addBean(new HeaderDeadline(jetty.getScheduler(), options.headerTimeout()));
        jetty.addConnector(connector);
        jetty.setErrorHandler(new OpenAiErrorHandler());
        jetty.setHandler(new ApiHandler(options, models, metrics, batchers, schedulers));
    }

    /** Binds and starts serving {@code models}. */
    public static OffloadServer start(ServerOptions options, ServedModels models) throws Exception {
        OffloadServer s = new OffloadServer(options, models);
        try {
            s.jetty.start();
        } catch (Exception e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** The port it listens on (the one picked, when asked for 0). */
    public int port() { return connector.getLocalPort(); }

    /** {@code http://host:port}. */
    public String url() {
        String host = connector.getHost();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    ServerMetrics metrics() { return metrics; }

    /** Waits until the server stops. */
    public void join() throws InterruptedException { jetty.join(); }

    /** Stops listening, ends requests in flight, stops the batchers and schedulers. */
    @Override
    public void close() {
        try {
            jetty.stop();
        } catch (Exception e) {
            throw new IllegalStateException("the HTTP server did not stop cleanly", e);
        } finally {
            batchers.values().forEach(EmbeddingBatcher::close);
            schedulers.values().forEach(GenerationScheduler::close);
            virtualThreads.shutdownNow();
        }
    }
}
