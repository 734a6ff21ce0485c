package dev.offload.model.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Test-only GGUF builder: metadata of any type, tensors with their bytes placed at aligned offsets, and the knobs
 * hostile files need (raw values, explicit offsets, dimension counts and type ids the reader must refuse, a
 * truncated end). It writes what the format says, independently of the reader under test.
 */
public final class GgufWriter {
    /** A tensor to write; {@code offset} null places it after the previous one, aligned. */
    public record Tensor(String name, long[] dims, int typeId, Long offset, byte[] data) {}

    private int version = 3;
    private long alignment = GgufFile.DEFAULT_ALIGNMENT;
    private final List<Consumer<Bytes>> kvs = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private Long kvCountOverride, tensorCountOverride;

    public GgufWriter version(int v) { version = v; return this; }

    /** Sets the alignment used for placement (write general.alignment yourself to declare it). */
    public GgufWriter alignment(long a) { alignment = a; return this; }

    public GgufWriter kvCount(long n) { kvCountOverride = n; return this; }

    public GgufWriter tensorCount(long n) { tensorCountOverride = n; return this; }

    /** A key-value pair whose value bytes (type id included) the consumer writes. */
    public GgufWriter raw(String key, Consumer<Bytes> typeAndValue) {
        kvs.add(b -> { b.str(key); typeAndValue.accept(b); });
        return this;
    }

    public GgufWriter u8(String key, int v) { return raw(key, b -> b.u32(0).u8(v)); }
    public GgufWriter i8(String key, int v) { return raw(key, b -> b.u32(1).u8(v)); }
    public GgufWriter u16(String key, int v) { return raw(key, b -> b.u32(2).u16(v)); }
    public GgufWriter i16(String key, int v) { return raw(key, b -> b.u32(3).u16(v)); }
    public GgufWriter u32(String key, long v) { return raw(key, b -> b.u32(4).u32(v)); }
    public GgufWriter i32(String key, int v) { return raw(key, b -> b.u32(5).u32(v)); }
    public GgufWriter f32(String key, float v) { return raw(key, b -> b.u32(6).f32(v)); }
    public GgufWriter bool(String key, boolean v) { return raw(key, b -> b.u32(7).u8(v ? 1 : 0)); }
    public GgufWriter str(String key, String v) { return raw(key, b -> b.u32(8).str(v)); }
    public GgufWriter u64(String key, long v) { return raw(key, b -> b.u32(10).u64(v)); }
    public GgufWriter i64(String key, long v) { return raw(key, b -> b.u32(11).u64(v)); }
    public GgufWriter f64(String key, double v) { return raw(key, b -> b.u32(12).f64(v)); }

    public GgufWriter strings(String key, String... v) {
        return raw(key, b -> { b.u32(9).u32(8).u64(v.length); for (String s : v) b.str(s); });
    }

    public GgufWriter floats(String key, float... v) {
        return raw(key, b -> { b.u32(9).u32(6).u64(v.length); for (float f : v) b.f32(f); });
    }

    public GgufWriter ints(String key, int... v) {
        return raw(key, b -> { b.u32(9).u32(5).u64(v.length); for (int i : v) b.u32(i); });
    }

    public GgufWriter tensor(String name, int typeId, long[] dims, byte[] data) {
        tensors.add(new Tensor(name, dims, typeId, null, data));
        return this;
    }

    public GgufWriter tensor(Tensor t) { tensors.add(t); return this; }

    /** The whole file. */
    public byte[] bytes() {
        Bytes b = new Bytes();
        b.raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version);
        b.u64(tensorCountOverride != null ? tensorCountOverride : tensors.size());
        b.u64(kvCountOverride != null ? kvCountOverride : kvs.size());
        for (Consumer<Bytes> kv : kvs) kv.accept(b);
        long[] offsets = new long[tensors.size()];
        long next = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            offsets[i] = t.offset() != null ? t.offset() : next;
            next = align(offsets[i] + t.data().length);
            b.str(t.name()).u32(t.dims().length);
            for (long d : t.dims()) b.u64(d);
            b.u32(t.typeId()).u64(offsets[i]);
        }
        if (tensors.isEmpty()) return b.toArray();
        while (b.size() % alignment != 0) b.u8(0);
        long dataStart = b.size();
        byte[] head = b.toArray();
        long end = dataStart;
        for (int i = 0; i < tensors.size(); i++) end = Math.max(end, dataStart + offsets[i] + tensors.get(i).data().length);
        byte[] file = java.util.Arrays.copyOf(head, (int) end);
        for (int i = 0; i < tensors.size(); i++) {
            byte[] d = tensors.get(i).data();
            System.arraycopy(d, 0, file, (int) (dataStart + offsets[i]), d.length);
        }
        return file;
    }

    public Path write(Path file) throws IOException {
        Files.write(file, bytes());
        return file;
    }

    private long align(long x) { return (x + alignment - 1) / alignment * alignment; }

    /** Little-endian bytes. */
    public static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private Bytes put(int n, Consumer<ByteBuffer> f) {
            ByteBuffer bb = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
            f.accept(bb);
            out.writeBytes(bb.array());
            return this;
        }

        public Bytes u8(int v) { out.write(v); return this; }
        public Bytes u16(int v) { return put(2, bb -> bb.putShort((short) v)); }
        public Bytes u32(long v) { return put(4, bb -> bb.putInt((int) v)); }
        public Bytes u64(long v) { return put(8, bb -> bb.putLong(v)); }
        public Bytes f32(float v) { return put(4, bb -> bb.putFloat(v)); }
        public Bytes f64(double v) { return put(8, bb -> bb.putDouble(v)); }
        public Bytes raw(byte[] b) { out.writeBytes(b); return this; }

        public Bytes str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).raw(b);
        }

        int size() { return out.size(); }

        byte[] toArray() { return out.toByteArray(); }
    }
}
