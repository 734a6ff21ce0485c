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

    /** The node's slot on {@code device}, created on first use; checks that {@code newTokens} more fit. */
    synchronized Slot slot(String node, ComputeDevice device, int batch, int kvWidth, int newTokens) {
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

    @Override
    public synchronized void close() {
        for (Slot s : slots.values()) {
            if (s instanceof ClSlot c) {
                c.k.close();
                c.v.close();
            }
        }
        slots.clear();
    }
}
