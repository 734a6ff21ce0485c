package dev.offload.runtime;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The runtime's activation buffers and the count of what it holds open, so that tests (and {@code --verbose}) can
 * see that a long run does not leak native memory: live activations and events return to zero after every run.
 *
 * <p>Released activation buffers are kept for reuse, per device and exact size, instead of being freed: a new
 * buffer is new memory, and on a CPU device (PoCL) the kernel that first writes it pays a page fault per 4 KiB —
 * measured in a 32 x 128-token MiniLM-shaped encoder, a residual add ran at 11 GB/s into fresh buffers and many
 * times faster into reused ones. Reuse is safe because a device has one in-order queue: a buffer is released after
 * its last reader is enqueued, so the next writer is ordered after it. The pool never holds more bytes than the
 * most activation memory ever live at once (one run's working set), so it does not grow over a long run.
 */
public final class DeviceAllocations implements AutoCloseable {
    private final AtomicLong activationBuffers = new AtomicLong();
    private final AtomicLong activationBytes = new AtomicLong();
    private final AtomicLong events = new AtomicLong();
    private volatile boolean poison;

    /** Free buffers per device and size; guarded by this. */
    private final Map<OpenClDevice, Map<Long, ArrayDeque<Buffer>>> free = new HashMap<>();
    private long pooledBytes;
    private long peakLiveBytes;

    /**
     * Fill every activation buffer with 0xFF bytes (a NaN for float32, -1 for ints) before use, new or reused, so
     * that an element a kernel never writes shows up in comparisons. For tests; costs a fill per buffer.
     */
    public void poisonNewBuffers(boolean on) { this.poison = on; }

    Buffer activation(OpenClDevice device, long bytes) {
        long size = Math.max(bytes, 1);
        Buffer b = reuse(device, size);
        if (b == null) b = device.context().createBuffer(size);
        if (poison) device.queue().fill(b, new byte[] {(byte) 0xFF}, 0, b.size()).close();
        activationBuffers.incrementAndGet();
        long live = activationBytes.addAndGet(b.size());
        synchronized (this) { peakLiveBytes = Math.max(peakLiveBytes, live); }
        return b;
    }

    private synchronized Buffer reuse(OpenClDevice device, long size) {
        ArrayDeque<Buffer> q = free.getOrDefault(device, Map.of()).get(size);
        Buffer b = q == null ? null : q.pollFirst();
        if (b != null) pooledBytes -= b.size();
        return b;
    }

    void activationClosed(OpenClDevice device, Buffer b) {
        activationBuffers.decrementAndGet();
        activationBytes.addAndGet(-b.size());
        synchronized (this) {
            if (pooledBytes + b.size() <= peakLiveBytes) {
                free.computeIfAbsent(device, d -> new HashMap<>()).computeIfAbsent(b.size(), s -> new ArrayDeque<>()).addFirst(b);
                pooledBytes += b.size();
                return;
            }
        }
        b.close();
    }

    private final AtomicLong recordedBuffers = new AtomicLong();
    private final AtomicLong recordedBytes = new AtomicLong();

    /** An activation buffer becomes a {@link Recording}'s: no longer live in a run, held until the recording closes. */
    void keptByRecording(Buffer b) {
        activationBuffers.decrementAndGet();
        activationBytes.addAndGet(-b.size());
        recordedBuffers.incrementAndGet();
        recordedBytes.addAndGet(b.size());
    }

    /** A recording's buffer is released (pooled for reuse like any released activation). */
    void recordingClosed(OpenClDevice device, Buffer b) {
        recordedBuffers.decrementAndGet();
        recordedBytes.addAndGet(-b.size());
        activationBuffers.incrementAndGet();
        activationBytes.addAndGet(b.size());
        activationClosed(device, b);
    }

    /** Buffers held by recorded graph runs between runs (zero without a recording). */
    public long recordedBuffers() { return recordedBuffers.get(); }

    public long recordedBytes() { return recordedBytes.get(); }

    void eventOpened() { events.incrementAndGet(); }

    void eventClosed() { events.decrementAndGet(); }

    /** Activation buffers open now: zero between runs. */
    public long liveActivationBuffers() { return activationBuffers.get(); }

    public long liveActivationBytes() { return activationBytes.get(); }

    /** Bytes of released buffers kept for reuse: at most the largest working set of a run. */
    public synchronized long pooledBytes() { return pooledBytes; }

    /** OpenCL events open now: zero between runs. */
    public long liveEvents() { return events.get(); }

    /** Frees the pooled buffers (the runtime's close). */
    @Override
    public synchronized void close() {
        free.values().forEach(bySize -> bySize.values().forEach(q -> q.forEach(Buffer::close)));
        free.clear();
        pooledBytes = 0;
    }
}
