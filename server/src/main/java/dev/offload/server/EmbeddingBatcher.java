package dev.offload.server;

import dev.offload.model.TokenBatch;
import dev.offload.session.EmbeddingSession;
import dev.offload.session.SentenceEmbeddings;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Coalesces concurrent embedding requests into device runs: one worker thread per model takes the waiting requests,
 * oldest first, up to {@code maxBatch} sentences (whole requests; a request larger than that runs alone, in several
 * runs), embeds them with one {@link EmbeddingSession#embed} call and hands each request its own rows.
 *
 * <p>The collection window: a run starts when {@code maxBatch} sentences are waiting, or when the oldest waiting
 * request has waited {@code window} — so a lone client pays at most the window, and while the device is busy, requests
 * pile up and the next run takes them all at once. Batching never changes a result: the session gives a text the same
 * bits alone or in any batch. Requests are tokenized on their own threads before they queue.
 *
 * <p>At most {@code maxQueue} requests wait; one more is refused ({@link ApiException#queueFull}, a 429).
 */
final class EmbeddingBatcher implements AutoCloseable {
    private record Pending(List<TokenBatch.Sequence> sequences, long tokens, long arrivedNs, CompletableFuture<SentenceEmbeddings> result) {}

    private final String model;
    private final EmbeddingSession session;
    private final int maxBatch;
    private final int maxQueue;
    private final long windowNs;
    private final ServerMetrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private int queuedSentences;
    private boolean closed;
    private final Thread worker;

    EmbeddingBatcher(String model, EmbeddingSession session, int maxBatch, int maxQueue, Duration window, ServerMetrics metrics) {
        if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be at least 1, got " + maxBatch);
        this.model = model;
        this.session = session;
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.windowNs = window.toNanos();
        this.metrics = metrics;
        metrics.queue(model, this::depth);
        this.worker = Thread.ofPlatform().name("offload-batcher-" + model).daemon().start(this::work);
    }

    /** Queues tokenized texts; the future completes with their embeddings, in order. */
    CompletableFuture<SentenceEmbeddings> submit(EmbeddingSession.Tokenized texts) {
        Pending p = new Pending(texts.sequences(), texts.tokens(), System.nanoTime(), new CompletableFuture<>());
        lock.lock();
        try {
            if (closed) throw ApiException.internal("the server is shutting down");
            if (queue.size() >= maxQueue) throw ApiException.queueFull(model, queue.size());
            queue.add(p);
            queuedSentences += p.sequences().size();
            arrived.signal();
        } finally {
            lock.unlock();
        }
        return p.result();
    }

    /** Requests waiting (not yet in a run). */
    int depth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        try {
            for (List<Pending> batch = next(); batch != null; batch = next()) run(batch);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failWaiting();
    }

    /** The next run's requests, once the window closes or the run is full; null once closed. */
    private List<Pending> next() throws InterruptedException {
        lock.lock();
        try {
            while (queue.isEmpty() && !closed) arrived.await();
            if (closed) return null;
            long deadline = queue.peek().arrivedNs() + windowNs;
            while (queuedSentences < maxBatch && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                arrived.awaitNanos(left);
            }
            if (closed) return null;
            List<Pending> batch = new ArrayList<>();
            int sentences = 0;
            while (!queue.isEmpty() && (batch.isEmpty() || sentences + queue.peek().sequences().size() <= maxBatch)) {
                Pending p = queue.poll();
                batch.add(p);
                sentences += p.sequences().size();
                queuedSentences -= p.sequences().size();
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void run(List<Pending> batch) {
        List<TokenBatch.Sequence> all = new ArrayList<>();
        for (Pending p : batch) all.addAll(p.sequences());
        SentenceEmbeddings e;
        try {
            e = session.embed(new EmbeddingSession.Tokenized(all, 0), 0, null);
        } catch (RuntimeException | Error failure) {
            for (Pending p : batch) p.result().completeExceptionally(failure);
            if (failure instanceof Error err) throw err;
            return;
        }
        metrics.batch(model, all.size(), batch.size());
        int d = e.dimension(), row = 0;
        for (Pending p : batch) {
            int n = p.sequences().size();
            float[] mine = new float[n * d];
            System.arraycopy(e.vectors(), row * d, mine, 0, mine.length);
            row += n;
            p.result().complete(new SentenceEmbeddings(mine, n, d, p.tokens(), 0));
        }
    }

    private void failWaiting() {
        lock.lock();
        try {
            closed = true;
            for (Pending p : queue) p.result().completeExceptionally(ApiException.internal("the server is shutting down"));
            queue.clear();
            queuedSentences = 0;
        } finally {
            lock.unlock();
        }
    }

    /** Stops taking requests; the run in progress finishes, waiting requests fail. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            worker.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
