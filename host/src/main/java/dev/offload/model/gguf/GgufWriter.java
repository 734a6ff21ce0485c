package dev.offload.model.gguf;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Writes GGUF files (version 3 unless told otherwise): the header, the metadata and the tensor infos first, then
 * each tensor's bytes from its own {@link TensorBytes} producer, streamed to the file at its aligned offset, so a
 * model of gigabytes never sits in memory. Metadata of every value type ({@link #value} copies one read from
 * another file), tensors of any ggml type ({@link GgmlQuantizer} makes Q8_0 and Q4_0 blocks as llama.cpp does, and
 * valid Q4_K and Q6_K ones).
 *
 * <p>It writes what the format says, independently of {@link GgufFile}, and keeps the knobs the reader's bad-file
 * tests need: any version, a placement alignment that need not match {@code general.alignment}, overridden
 * metadata and tensor counts, raw value bytes, explicit (overlapping, misaligned, absurd) tensor offsets and type
 * ids that no ggml type has.
 */
public final class GgufWriter {
    /** Writes a tensor's bytes in order: exactly the size its {@link Tensor} declares. */
    @FunctionalInterface
    public interface TensorBytes {
        void writeTo(OutputStream out) throws IOException;
    }

    /** A tensor to write; {@code offset} null places it after the previous one, aligned. */
    public record Tensor(String name, long[] dims, int typeId, Long offset, long size, TensorBytes data) {
        /** A tensor whose bytes are already in memory (small files, tests). */
        public Tensor(String name, long[] dims, int typeId, Long offset, byte[] data) {
            this(name, dims, typeId, offset, data.length, out -> out.write(data));
        }
    }

    private int version = 3;
    private long alignment = GgufFile.DEFAULT_ALIGNMENT;
    private final List<Consumer<Bytes>> kvs = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private Long kvCountOverride, tensorCountOverride;

    public GgufWriter version(int v) { version = v; return this; }

    /** Sets the alignment used for placement (write general.alignment yourself to declare it). */
    public GgufWriter alignment(long a) { alignment = a; return this; }

    /** Declares {@code n} metadata pairs whatever was added (bad-file tests). */
    public GgufWriter kvCount(long n) { kvCountOverride = n; return this; }

    /** Declares {@code n} tensors whatever was added (bad-file tests). */
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

    /** A value as {@link GgufFile} read it, written back with its declared type (copies metadata between files). */
    public GgufWriter value(String key, GgufValue v) {
        return raw(key, b -> { b.u32(v.type().ordinal()); b.value(v); });
    }

    /** A tensor whose bytes are in memory. */
    public GgufWriter tensor(String name, int typeId, long[] dims, byte[] data) {
        tensors.add(new Tensor(name, dims, typeId, null, data));
        return this;
    }

    /** A tensor of {@code type} whose bytes {@code data} streams when the file is written (its size follows from the shape). */
    public GgufWriter tensor(String name, GgmlType type, long[] dims, TensorBytes data) {
        long elements = 1;
        for (long d : dims) elements = Math.multiplyExact(elements, d);
        tensors.add(new Tensor(name, dims, type.id(), null, GgmlQuantizer.byteSize(type, elements), data));
        return this;
    }

    public GgufWriter tensor(Tensor t) { tensors.add(t); return this; }

    /** The whole file in memory (small files: tests). */
    public byte[] bytes() throws IOException {
        Path tmp = Files.createTempFile("offload-gguf-", ".gguf");
        try {
            write(tmp);
            return Files.readAllBytes(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes the file (replacing it): the head, then each tensor's bytes streamed from its producer. */
    public Path write(Path file) throws IOException {
        long[] offsets = offsets();
        byte[] head = head(offsets);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(head));
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                if (t.size() == 0) continue; // nothing to place (an absurd offset stays only in the infos)
                ch.position(Math.addExact(head.length, offsets[i]));
                // Not closed: closing the stream would close the channel; flushed instead.
                CountingStream out = new CountingStream(new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20));
                t.data().writeTo(out);
                out.flush();
                if (out.count != t.size()) {
                    throw new IllegalStateException("tensor '" + t.name() + "': its producer wrote " + out.count + " bytes, the tensor has " + t.size());
                }
            }
        }
        return file;
    }

    /** Each tensor's data offset: its own, or the previous one's end aligned. */
    private long[] offsets() {
        long[] offsets = new long[tensors.size()];
        long next = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            offsets[i] = t.offset() != null ? t.offset() : next;
            next = align(offsets[i] + t.size());
        }
        return offsets;
    }

    /** Magic, version, counts, metadata, tensor infos, padded to the alignment when there are tensors. */
    private byte[] head(long[] offsets) {
        Bytes b = new Bytes();
        b.raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version);
        b.u64(tensorCountOverride != null ? tensorCountOverride : tensors.size());
        b.u64(kvCountOverride != null ? kvCountOverride : kvs.size());
        for (Consumer<Bytes> kv : kvs) kv.accept(b);
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            b.str(t.name()).u32(t.dims().length);
            for (long d : t.dims()) b.u64(d);
            b.u32(t.typeId()).u64(offsets[i]);
        }
        if (!tensors.isEmpty()) while (b.size() % alignment != 0) b.u8(0);
        return b.toArray();
    }

    private long align(long x) { return (x + alignment - 1) / alignment * alignment; }

    /** Counts what passes through, to check a producer wrote its tensor's size. */
    private static final class CountingStream extends FilterOutputStream {
        long count;

        CountingStream(OutputStream out) { super(out); }

        @Override
        public void write(int b) throws IOException { out.write(b); count++; }

        @Override
        public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); count += len; }
    }

    /** Little-endian bytes of the head. */
    public static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        private Bytes put(int n) {
            out.write(scratch.array(), 0, n);
            scratch.clear();
            return this;
        }

        public Bytes u8(int v) { out.write(v); return this; }
        public Bytes u16(int v) { scratch.putShort((short) v); return put(2); }
        public Bytes u32(long v) { scratch.putInt((int) v); return put(4); }
        public Bytes u64(long v) { scratch.putLong(v); return put(8); }
        public Bytes f32(float v) { scratch.putFloat(v); return put(4); }
        public Bytes f64(double v) { scratch.putDouble(v); return put(8); }
        public Bytes raw(byte[] b) { out.writeBytes(b); return this; }

        public Bytes str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).raw(b);
        }

        /** {@code v}'s value bytes (no type id), as its declared type lays them out. */
        Bytes value(GgufValue v) {
            switch (v) {
                case GgufValue.Int i -> scalar(i.type(), i.value());
                case GgufValue.Float32 f -> f32(f.value());
                case GgufValue.Float64 f -> f64(f.value());
                case GgufValue.Bool x -> u8(x.value() ? 1 : 0);
                case GgufValue.Str s -> str(s.value());
                case GgufValue.Array a -> {
                    u32(a.elementType().ordinal()).u64(a.length());
                    switch (a.elements()) {
                        case long[] e -> { for (long x : e) scalar(a.elementType(), x); }
                        case float[] e -> { for (float x : e) f32(x); }
                        case double[] e -> { for (double x : e) f64(x); }
                        case boolean[] e -> { for (boolean x : e) u8(x ? 1 : 0); }
                        case String[] e -> { for (String x : e) str(x); }
                        case GgufValue.Array[] e -> { for (GgufValue.Array x : e) value(x); }
                        default -> throw new IllegalArgumentException("array of " + a.elements().getClass());
                    }
                }
            }
            return this;
        }

        private void scalar(GgufValueType type, long v) {
            switch (type) {
                case UINT8, INT8 -> u8((int) v);
                case UINT16, INT16 -> u16((int) v);
                case UINT32, INT32 -> u32(v);
                case UINT64, INT64 -> u64(v);
                default -> throw new IllegalArgumentException(type + " is not an integer type");
            }
        }

        int size() { return out.size(); }

        byte[] toArray() { return out.toByteArray(); }
    }
}
