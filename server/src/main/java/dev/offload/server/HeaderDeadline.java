package dev.offload.server;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Closes a connection that has not delivered one whole request head within a deadline of opening. The idle timeout
 * alone does not stop a slowloris client, which keeps each byte of its headers within it; Jetty parses headers without
 * a thread of their own, so such a connection costs only a socket until then.
 */
final class HeaderDeadline implements Connection.Listener {
    private final Scheduler scheduler;
    private final long millis;

    HeaderDeadline(Scheduler scheduler, Duration deadline) {
        this.scheduler = scheduler;
        this.millis = deadline.toMillis();
    }

    @Override
    public void onOpened(Connection connection) {
        scheduler.schedule(() -> {
            if (connection.getMessagesIn() == 0 && connection.getEndPoint().isOpen()) connection.close();
        }, millis, TimeUnit.MILLISECONDS);
    }
}
