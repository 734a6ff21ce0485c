package dev.offload.runtime;

import dev.offload.cl.Buffer;
import dev.offload.device.ComputeDevice;
import dev.offload.device.JavaDevice;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.TensorType;
import dev.offload.tensor.DType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys and values one request has seen so far, per causal attention node: what lets a decode step attend over
 * all earlier tokens without recomputing them. Owned by the request (one per sequence batch, or per micro-batch)
 * and passed to every {@link GraphRuntime#run(Map, KvCache)} of it: the prefill fills it, each decode step appends
 * its new token's K and V and reads everything back.
 *
 * <p>Each node's slot lives where the node runs: host arrays for java, two device buffers for OpenCL (kept across
 * steps, so the cache never crosses PCIe/host). Layout is token-major per sequence, [batch, capacity, kvWidth]:
 * sequence b's rows start at {@code b * capacity}, so appending a step is one copy per sequence. A slot is created
 * on first use; a node that later runs on another device (a fallback) is an error, since its past is elsewhere.
 *
 * <p>Used by one run at a time (a request's steps are sequential). Close it to free the device buffers.
 */
public final class KvCache implements AutoCloseable {
    private final int capacity;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    /** Per device: the token counts after the current decode step, which the decode-step kernels read. */
    private final Map<OpenClDevice, StepLengths> stepLengths = new LinkedHashMap<>();
    /** Told when the cache closes: recordings whose launches read this cache's buffers drop them. */
    private final List<Runnable> onClose = new java.util.ArrayList<>();
    private boolean closed;

    /** @param capacity tokens per sequence the cache can hold (prefill length + decode steps) */
    public KvCache(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("a KV cache needs a positive capacity, got " + capacity);
        this.capacity = capacity;
    }

    public int capacity() { return capacity; }

    /** Tokens cached for a node (0 before its first run). */
    public synchronized int length(String node) {
        Slot s = slots.get(node);
        return s == null ? 0 : s.length;
    }

    /** One node's cache on one device. {@code length} tokens per sequence are valid. */
    abstract static sealed class Slot permits HostSlot, ClSlot {
        final ComputeDevice device;
        final int batch, kvWidth;
        int length;

        Slot(ComputeDevice device, int batch, int kvWidth) {
            this.device = device;
            this.batch = batch;
            this.kvWidth = kvWidth;
        }
    }

    static final class HostSlot extends Slot {
        final float[] k, v;

        HostSlot(int batch, int kvWidth, int capacity) {
            super(JavaDevice.INSTANCE, batch, kvWidth);
            k = new float[batch * capacity * kvWidth];
            v = new float[batch * capacity * kvWidth];
        }
    }

    static final class ClSlot extends Slot {
        final Buffer k, v;

        ClSlot(OpenClDevice device, int batch, int kvWidth, int capacity) {
            super(device, batch, kvWidth);
            long bytes = 4L * batch * capacity * kvWidth;
            Buffer kb = device.context().createBuffer(bytes);
            try {
                v = device.context().createBuffer(bytes);
            } catch (RuntimeException e) {
                kb.close();
                throw e;
            }
            k = kb;
        }
    }

    /** One device's [batch] int32 token counts after the current decode step, and the value last written there. */
    private static final class StepLengths {
        final Buffer buffer;
        final int batch;
        int written = -1;

        StepLengths(OpenClDevice device, int batch) {
            this.buffer = device.context().createBuffer(4L * batch);
            this.batch = batch;
        }
    }

    /** The node's slot on {@code device}, created on first use; checks that {@code newTokens} more fit. */
    synchronized Slot slot(String node, ComputeDevice device, int batch, int kvWidth, int newTokens) {
        if (closed) throw new IllegalStateException("this KV cache is closed");
        Slot s = slots.get(node);
        if (s == null) {
            s = device instanceof OpenClDevice cl ? new ClSlot(cl, batch, kvWidth, capacity) : new HostSlot(batch, kvWidth, capacity);
            slots.put(node, s);
        }
        if (s.device != device) {
            throw new IllegalStateException("the KV cache of node " + node + " lives on " + s.device.spec() + " but the node now runs on "
                    + device.spec() + " (a fallback?); start the request again with a fresh KvCache");
        }
        if (s.batch != batch || s.kvWidth != kvWidth) {
            throw new IllegalStateException("node " + node + " runs with batch " + batch + " x kv width " + kvWidth
                    + " but its KV cache was made for " + s.batch + " x " + s.kvWidth + "; use one KvCache per request");
        }
        if (s.length + newTokens > capacity) {
            throw new IllegalStateException("the KV cache of node " + node + " holds " + s.length + " of " + capacity
                    + " tokens and cannot take " + newTokens + " more; make the KvCache with a larger capacity");
        }
        return s;
    }

    /**
     * All cached keys and values of a node as [batch, length, kvWidth] tensors on the device; {@code owned}: copies the
     * caller releases after its kernel is enqueued, else views of the cache's own buffers (never released).
     */
    public record Gathered(ClTensor keys, ClTensor values, boolean owned) {}

    /**
     * OpenCL path: appends this step's keys and values ([batch, newTokens, kvWidth] on {@code cl}) to the node's cache
     * buffers there (one device copy per sequence and direction, ordered by the in-order queue like every other
     * command of the run) and returns all cached ones. One sequence's cache is already a contiguous
     * [1, length, kvWidth] prefix of its buffers, so it is returned as it is; for a batch the sequences' rows are
     * gathered into contiguous copies.
     */
    public Gathered appendOnDevice(String node, OpenClDevice cl, RunContext ctx, ClTensor k, ClTensor v,
                                   int batch, int newTokens, int kvWidth) {
        ClSlot s = (ClSlot) slot(node, cl, batch, kvWidth, newTokens);
        int len = s.length + newTokens;
        long row = 4L * kvWidth, seqBytes = row * capacity;
        TensorType all = TensorType.of(DType.FLOAT32, batch, len, kvWidth);
        for (int b = 0; b < batch; b++) {
            long src = b * newTokens * row, dst = b * seqBytes + s.length * row;
            ctx.enqueue(cl, () -> cl.queue().copy(k.buffer(), src, s.k, dst, newTokens * row));
            ctx.enqueue(cl, () -> cl.queue().copy(v.buffer(), src, s.v, dst, newTokens * row));
        }
        s.length = len;
        if (batch == 1) return new Gathered(new ClTensor(all, s.k, cl), new ClTensor(all, s.v, cl), false);
        ClTensor kAll = ctx.allocate(cl, all), vAll = ctx.allocate(cl, all);
        for (int b = 0; b < batch; b++) {
            long src = b * seqBytes, dst = b * len * row;
            ctx.enqueue(cl, () -> cl.queue().copy(s.k, src, kAll.buffer(), dst, len * row));
            ctx.enqueue(cl, () -> cl.queue().copy(s.v, src, vAll.buffer(), dst, len * row));
        }
        return new Gathered(kAll, vAll, true);
    }

    /** A decode step's view of one node's cache on a device: its whole buffers, and the token counts after the step. */
    public record DecodeStep(Buffer keys, Buffer values, Buffer lengths, int capacity) {}

    /**
     * Whether a causal attention node whose queries are {@code query} ([batch, tokens, width]) runs as a decode step
     * ({@link #appendInKernel}): one new token per sequence. Longer steps (prompt chunks) append with copies
     * ({@link #appendOnDevice}), whose offsets follow the cache's length.
     */
    public static boolean isDecodeStep(TensorType query) { return query.dim(1) == 1; }

    /**
     * OpenCL decode step (one new token per sequence): makes room for the token in the node's cache buffers on
     * {@code cl} and returns them whole, with the device's buffer of token counts after the step; the caller's
     * kernel writes the token at row count - 1 ({@code FusedAttention#enqueueDecodeStep}). The first node of a step
     * on a device enqueues the counts' write (through {@code ctx}, so that a recorded run writes them again at every
     * replay); the others find them written. Nothing here depends on the position but that buffer's contents.
     */
    public DecodeStep appendInKernel(String node, OpenClDevice cl, RunContext ctx, int batch, int kvWidth) {
        ClSlot s;
        StepLengths l;
        synchronized (this) {
            s = (ClSlot) slot(node, cl, batch, kvWidth, 1);
            l = stepLengths(cl, batch);
            s.length++;
            if (l.written != s.length) writeLengths(cl, l, s.length, ctx);
        }
        ctx.decodeStepAppended(this, node);
        return new DecodeStep(s.k, s.v, l.buffer, capacity);
    }

    private StepLengths stepLengths(OpenClDevice cl, int batch) {
        StepLengths l = stepLengths.get(cl);
        if (l == null) {
            l = new StepLengths(cl, batch);
            stepLengths.put(cl, l);
        }
        if (l.batch != batch) throw new IllegalStateException("a decode step of batch " + batch + " on a KV cache of batch " + l.batch);
        return l;
    }

    /** Enqueues the write of {@code count} for every sequence; the host memory lives in the run's arena. */
    private static void writeLengths(OpenClDevice cl, StepLengths l, int count, RunContext ctx) {
        int[] counts = new int[l.batch];
        java.util.Arrays.fill(counts, count);
        java.lang.foreign.MemorySegment seg = ctx.arena().allocateFrom(java.lang.foreign.ValueLayout.JAVA_INT, counts);
        ctx.writeStepLengths(cl, () -> cl.queue().write(l.buffer, 0, seg));
        l.written = count;
    }

    /**
     * A replay of a recorded decode step ({@link #appendInKernel} ran for {@code nodes} when it was recorded): checks
     * that every node's slot is on {@code cl} with room for one more token, at one common length, then writes the
     * counts after the step. Nothing is changed when a check fails. {@link #advance} follows once the step is enqueued.
     */
    synchronized void replayDecodeStep(List<String> nodes, OpenClDevice cl, RunContext ctx) {
        int length = checkDecodeStep(nodes, cl);
        StepLengths l = stepLengths.get(cl);
        if (l == null) throw new IllegalStateException("the recorded step's KV cache has no token counts on " + cl.spec());
        if (l.written != length + 1) writeLengths(cl, l, length + 1, ctx);
    }

    /** A decode step refused because the cache is full; nothing was enqueued or changed. */
    public static final class NoRoom extends IllegalStateException {
        NoRoom(String message) { super(message); }
    }

    /** The common length of {@code nodes}' slots on {@code cl}, checked to have room for one more token ({@link NoRoom}). */
    private synchronized int checkDecodeStep(List<String> nodes, OpenClDevice cl) {
        if (closed) throw new IllegalStateException("this KV cache is closed");
        int length = -1;
        for (String node : nodes) {
            Slot s = slots.get(node);
            if (s == null || s.device != cl) throw new IllegalStateException("the recorded step's node " + node + " has no KV cache on " + cl.spec());
            if (length >= 0 && s.length != length) {
                throw new IllegalStateException("the KV cache's nodes hold different lengths (" + length + " and " + s.length + " at " + node + ")");
            }
            length = s.length;
        }
        if (length + 1 > capacity) {
            throw new NoRoom("the KV cache holds " + length + " of " + capacity + " tokens and cannot take 1 more; "
                    + "make the KvCache with a larger capacity");
        }
        return length;
    }

    /** After a replayed decode step: each of {@code nodes} holds one more token. */
    synchronized void advance(List<String> nodes) {
        for (String node : nodes) slots.get(node).length++;
    }

    /** Whether {@link #close} ran. */
    public synchronized boolean isClosed() { return closed; }

    /** Runs {@code action} when the cache closes (at once if it has). */
    void onClose(Runnable action) {
        synchronized (this) {
            if (!closed) {
                onClose.add(action);
                return;
            }
        }
        action.run();
    }

    /** Java path: appends [batch, newTokens, kvWidth] keys and values, returns all cached ones as [batch, length, kvWidth]. */
    public float[][] appendHost(String node, int batch, int kvWidth, float[] k, float[] v, int newTokens) {
        HostSlot s = (HostSlot) slot(node, JavaDevice.INSTANCE, batch, kvWidth, newTokens);
        int len = s.length + newTokens, row = kvWidth;
        float[] kAll = new float[batch * len * row], vAll = new float[batch * len * row];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(k, b * newTokens * row, s.k, (b * capacity + s.length) * row, newTokens * row);
            System.arraycopy(v, b * newTokens * row, s.v, (b * capacity + s.length) * row, newTokens * row);
            System.arraycopy(s.k, b * capacity * row, kAll, b * len * row, len * row);
            System.arraycopy(s.v, b * capacity * row, vAll, b * len * row, len * row);
        }
        s.length = len;
        return new float[][] {kAll, vAll};
    }

    /** Frees the device buffers; recordings that read them are dropped first. */
    @Override
    public void close() {
        List<Runnable> actions;
        synchronized (this) {
            if (closed) return;
            closed = true;
            actions = List.copyOf(onClose);
            onClose.clear();
        }
        for (Runnable a : actions) a.run();   // outside the lock: a recording's runtime takes its own
        synchronized (this) {
            for (Slot s : slots.values()) {
                if (s instanceof ClSlot c) {
                    c.k.close();
                    c.v.close();
                }
            }
            slots.clear();
            for (StepLengths l : stepLengths.values()) l.buffer.close();
            stepLengths.clear();
        }
    }
}
