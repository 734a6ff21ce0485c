package dev.offload.ops.gemm;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.device.OpenClDevice;
import java.util.ArrayList;
import java.util.List;

/**
 * One GEMM call made once and run many times ({@link Int8Gemm#bind}): its kernels are created with their arguments
 * set, A's zero points are on the device and the row-sum scratch is allocated, so a {@link #run} is the launches
 * (the row sums, when B has zero points, then the product) and one wait, with no upload, allocation or wait in between.
 * This is the call a user repeating one shape waits for; {@link Int8Gemm#run} binds, runs once and closes.
 * Not thread-safe: the kernels' arguments belong to this call. The buffers it was bound to must stay open while it
 * runs; a run after one of them was closed throws.
 */
public final class BoundGemm implements AutoCloseable {
    /** A kernel with its arguments set, and the sizes it is launched with. */
    record Launch(Kernel kernel, long[] global, long[] local) {}

    private final OpenClDevice device;
    private final List<Launch> launches;
    private final List<Buffer> owned;
    /** The caller's buffers the kernels' arguments name (A, the weights, the output): checked before each run. */
    private final List<Buffer> borrowed;
    private boolean closed;

    BoundGemm(OpenClDevice device, List<Launch> launches, List<Buffer> owned, List<Buffer> borrowed) {
        this.device = device;
        this.launches = List.copyOf(launches);
        this.owned = List.copyOf(owned);
        this.borrowed = List.copyOf(borrowed);
    }

    /** Enqueues the kernels on the device's in-order queue, waits for the last; returns their device nanoseconds summed. */
    public long run() {
        if (closed) throw new IllegalStateException("this GEMM call is closed");
        // A kernel argument does not keep its buffer alive: launching with a released one would hand the driver a
        // dangling handle.
        for (Buffer b : borrowed) {
            if (b.isClosed()) throw new IllegalStateException("a buffer this GEMM call was bound to (A, the packed weights or the output) is closed");
        }
        List<Event> events = new ArrayList<>(launches.size());
        try {
            for (Launch l : launches) events.add(device.launch(l.kernel(), l.global(), l.local()));
            long nanos = 0;
            for (Event e : events) nanos += e.times().deviceNanos();   // times() waits, and throws if the command failed
            return nanos;
        } finally {
            events.forEach(Event::close);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        launches.forEach(l -> l.kernel().close());
        owned.forEach(Buffer::close);
    }
}
