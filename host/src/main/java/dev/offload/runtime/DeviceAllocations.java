package dev.offload.runtime;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the device buffers and events the runtime holds open, so that tests (and {@code --verbose}) can see that
 * a long run does not leak native memory: activations and events must return to zero after every run.
 */
public final class DeviceAllocations {
    private final AtomicLong activationBuffers = new AtomicLong();
    private final AtomicLong activationBytes = new AtomicLong();
    private final AtomicLong events = new AtomicLong();
    private volatile boolean poison;

    /**
     * Fill every new activation buffer with 0xFF bytes (a NaN for float32, -1 for ints) before use, so that an
     * element a kernel never writes shows up in comparisons. For tests; costs a fill per buffer.
     */
    public void poisonNewBuffers(boolean on) { this.poison = on; }

    Buffer activation(OpenClDevice device, long bytes) {
        Buffer b = device.context().createBuffer(Math.max(bytes, 1));
        if (poison) device.queue().fill(b, new byte[] {(byte) 0xFF}, 0, b.size()).close();
        activationBuffers.incrementAndGet();
        activationBytes.addAndGet(b.size());
        return b;
    }

    void activationClosed(Buffer b) {
        activationBuffers.decrementAndGet();
        activationBytes.addAndGet(-b.size());
        b.close();
    }

    void eventOpened() { events.incrementAndGet(); }

    void eventClosed() { events.decrementAndGet(); }

    /** Activation buffers open now: zero between runs. */
    public long liveActivationBuffers() { return activationBuffers.get(); }

    public long liveActivationBytes() { return activationBytes.get(); }

    /** OpenCL events open now: zero between runs. */
    public long liveEvents() { return events.get(); }
}
