package dev.offload.runtime;

import dev.offload.cl.Buffer;
import dev.offload.device.ComputeDevice;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.SparseFormat;
import dev.offload.ops.gemm.GemmConfig;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.PackedWeights;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.ops.sparse.Spmm;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

/**
 * Model weights on OpenCL devices, uploaded once per device and shared by every prepared node that reads them:
 * the nodes of the graphs built for different shapes of one model reference the same host arrays (see
 * model/EncoderGraph), so they share one device copy. A copy is keyed by the identity of its host array (and, for a
 * packed GEMM weight, the zero points and the GEMM configuration it was packed for); each node that holds it counts
 * as one reference, and the last release frees it.
 *
 * <p>Lives in runtime (not device) because it keeps what the runtime's op implementations upload, packed by
 * dev.offload.ops (which itself builds on dev.offload.device).
 *
 * <p>Thread-safe: nodes of several runtimes prepare at once. Concurrent requests for one weight upload it once (the
 * others wait for that upload); different weights upload in parallel.
 */
public final class ResidentWeights implements AutoCloseable {
    /** What this store holds on one device. */
    public record Usage(long bytes, int buffers) {
        static final Usage NONE = new Usage(0, 0);

        Usage plus(long b, int n) { return new Usage(bytes + b, buffers + n); }
    }

    /** A host array compared by identity: two graph nodes share a copy only when they reference the same array. */
    private record Identity(Object array) {
        @Override public boolean equals(Object o) { return o instanceof Identity i && i.array == array; }

        @Override public int hashCode() { return System.identityHashCode(array); }
    }

    private record Key(OpenClDevice device, Object what) {}

    private record PackedKey(Identity weight, QuantType type, int k, int n, Object zeroPoint, GemmConfig config) {}

    private record SparseKey(Identity weight, int k, int n, SparseFormat format) {}

    /** The stand-in for an absent optional kernel argument (a kernel argument cannot be null). */
    private record Placeholder() {}

    /** One device copy: made by the first holder, freed with the last. */
    private static final class Entry {
        int references;     // guarded by the store
        Object value;       // guarded by this entry
        List<Buffer> buffers = List.of();
    }

    private final Map<Key, Entry> entries = new HashMap<>();
    private final Map<OpenClDevice, Usage> usage = new LinkedHashMap<>();

    /** The references one prepared node holds on one device; closing it releases them all. */
    public Holder holder(OpenClDevice device) { return new Holder(device); }

    public final class Holder implements AutoCloseable {
        private final OpenClDevice device;
        private final List<Key> held = new ArrayList<>();

        private Holder(OpenClDevice device) { this.device = device; }

        public Buffer upload(float[] host) { return buffer(host, () -> device.upload(host)); }

        public Buffer upload(int[] host) { return buffer(host, () -> device.upload(host)); }

        public Buffer upload(byte[] host) { return buffer(host, () -> device.upload(host)); }

        /**
         * The bytes of {@code host} (a block-quantized weight's blocks: a slice of a mapped GGUF file), keyed by the
         * identity of {@code owner} (the weight object they belong to). {@code layout} turns the uploaded copy into the
         * buffer that stays resident: it may rearrange the bytes on the device into a new buffer, closing the copy.
         */
        public Buffer upload(Object owner, MemorySegment host, UnaryOperator<Buffer> layout) {
            return buffer(owner, () -> layout.apply(device.upload(host)));
        }

        /** A 4-byte zero buffer standing in for an absent optional argument; one per device. */
        public Buffer placeholder() { return acquire(new Placeholder(), () -> device.upload(new int[1]), List::of); }

        /** {@code b} packed by {@code gemm} with zero point {@code zb} ({@link Int8Gemm#pack}). */
        public PackedWeights packed(Int8Gemm gemm, Int8Matrix b, ZeroPoint zb) {
            Object zeroPoint = switch (zb) {
                case ZeroPoint.PerColumn p -> IntStream.of(p.values()).boxed().toList();   // by value: graphs may copy them
                default -> zb;
            };
            PackedKey key = new PackedKey(new Identity(b.data()), b.type(), b.rows(), b.cols(), zeroPoint, gemm.config());
            return acquire(key, () -> gemm.pack(b, zb), w -> List.of(w.packed(), w.zeroPoints(), w.columnSums()));
        }

        /** A linear weight [K, N] as the sparse operand of {@link Spmm#enqueueLinear} ({@link Spmm#uploadLinearWeight}). */
        public Spmm.DeviceMatrix sparse(Spmm spmm, byte[] weight, int k, int n, SparseFormat format) {
            return acquire(new SparseKey(new Identity(weight), k, n, format), () -> spmm.uploadLinearWeight(weight, k, n, format),
                    Spmm.DeviceMatrix::buffers);
        }

        private Buffer buffer(Object host, Supplier<Buffer> upload) { return acquire(new Identity(host), upload, List::of); }

        private <T> T acquire(Object what, Supplier<T> upload, Function<T, List<Buffer>> buffers) {
            Key key = new Key(device, what);
            T value = ResidentWeights.this.acquire(key, upload, buffers);
            held.add(key);
            return value;
        }

        /** Releases every reference this holder took (the node's close); each weight is freed with its last holder. */
        @Override
        public void close() {
            for (Key k : held) release(k);
            held.clear();
        }
    }

    @SuppressWarnings("unchecked")
    private <T> T acquire(Key key, Supplier<T> upload, Function<T, List<Buffer>> buffers) {
        Entry e;
        synchronized (this) {
            e = entries.computeIfAbsent(key, k -> new Entry());
            e.references++;
        }
        try {
            synchronized (e) {
                if (e.value == null) {
                    T made = upload.get();
                    List<Buffer> bufs = buffers.apply(made);
                    long bytes = bufs.stream().mapToLong(Buffer::size).sum();
                    e.buffers = bufs;
                    e.value = made;
                    synchronized (this) { usage.merge(key.device(), Usage.NONE.plus(bytes, bufs.size()), (a, b) -> a.plus(b.bytes(), b.buffers())); }
                }
                return (T) e.value;
            }
        } catch (RuntimeException | Error failure) {
            release(key);   // the failed upload made nothing; a later holder tries again
            throw failure;
        }
    }

    private void release(Key key) {
        Entry e;
        synchronized (this) {
            e = entries.get(key);
            if (e == null || --e.references > 0) return;
            entries.remove(key);
        }
        free(key.device(), e);
    }

    private void free(OpenClDevice device, Entry e) {
        synchronized (e) {
            if (e.value == null) return;
            long bytes = e.buffers.stream().mapToLong(Buffer::size).sum();
            e.buffers.forEach(Buffer::close);
            synchronized (this) { usage.merge(device, Usage.NONE, (a, b) -> a.plus(-bytes, -e.buffers.size())); }
            e.value = null;
            e.buffers = List.of();
        }
    }

    /** What is resident on {@code device} now. */
    public synchronized Usage usage(ComputeDevice device) { return usage.getOrDefault(device, Usage.NONE); }

    /** Resident bytes per device spec (devices that held weights, in the order they were first used). */
    public synchronized Map<String, Long> bytesByDevice() {
        Map<String, Long> out = new LinkedHashMap<>();
        usage.forEach((d, u) -> out.put(d.spec(), u.bytes()));
        return out;
    }

    /** Bytes resident on all devices together. */
    public synchronized long totalBytes() { return usage.values().stream().mapToLong(Usage::bytes).sum(); }

    /** Buffers resident on all devices together. */
    public synchronized int totalBuffers() { return usage.values().stream().mapToInt(Usage::buffers).sum(); }

    /** Frees whatever is still resident (holders not closed yet); their later close does nothing. */
    @Override
    public void close() {
        Map<Key, Entry> left;
        synchronized (this) {
            left = new HashMap<>(entries);
            entries.clear();
        }
        left.forEach((k, e) -> free(k.device(), e));
    }
}
