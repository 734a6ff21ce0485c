package dev.offload.server;

import dev.offload.session.GenerationSession;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One generation at a time for one model, in arrival order, on a thread of its own; at most {@code maxQueue} wait.
 * A job cancelled while it waits is dropped when its turn comes.
 */
final class SerialGenerationScheduler implements GenerationScheduler {
    private final String model;
    private final GenerationSession session;
    private final int maxQueue;
    private final ServerMetrics metrics;
    private final ArrayDeque<GenerationJob> queue = new ArrayDeque<>();
    private boolean closed;
    private GenerationJob running;
    private final Thread worker;

    SerialGenerationScheduler(String model, GenerationSession session, int maxQueue, ServerMetrics metrics) {
        this.model = model;
        this.session = session;
        this.maxQueue = maxQueue;
        this.metrics = metrics;
        metrics.queue(model, this::depth);
        this.worker = Thread.ofPlatform().name("offload-generator-" + model).daemon().start(this::work);
    }

    @Override
    public synchronized GenerationJob submit(GenerationRequest request) {
        if (closed) throw ApiException.internal("the server is shutting down");
        if (queue.size() >= maxQueue) throw ApiException.queueFull(model, queue.size());
        GenerationJob job = new GenerationJob(request);
        queue.add(job);
        notifyAll();
        return job;
    }

    @Override
    public synchronized int depth() { return queue.size(); }

    private synchronized GenerationJob take() throws InterruptedException {
        while (queue.isEmpty() && !closed) wait();
        running = closed ? null : queue.poll();
        return running;
    }

    private void work() {
        try {
            for (GenerationJob job = take(); job != null; job = take()) {
                GenerationJob.Finished f = job.run(session);
                metrics.generation(model, f.finishReason(), f.tokensPerSecond());
                if (!f.finishReason().equals("error")) {
                    metrics.tokens(model, "prompt", job.request().promptTokens());
                    metrics.tokens(model, "generated", f.completionTokens());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            for (GenerationJob job : queue) job.abandon(ApiException.internal("the server is shutting down"));
            queue.clear();
        }
    }

    /** Stops taking jobs; the running one is cancelled, waiting ones fail. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            if (running != null) running.cancel();
            notifyAll();
        }
        try {
            worker.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
