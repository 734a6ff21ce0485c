package dev.offload.model.gguf;

import dev.offload.io.InputFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An open GGUF file (version 2 or 3): its metadata, its tensor infos and the tensors' bytes as slices of the file
 * memory-mapped into a {@link MemorySegment}. The mapping belongs to this object (a shared arena, so any thread
 * may read the tensors) and is released by {@link #close}; the file is never copied onto the Java heap, only the
 * metadata is decoded.
 *
 * <p>Opening checks the whole layout: the header, every metadata value, tensor infos (at most 4 dimensions, known
 * types, rows a whole number of blocks, sizes without overflow), {@code general.alignment} (a power of two, 32 when
 * absent), aligned offsets, tensor data inside the file and no two tensors overlapping. A file that fails any check
 * is a {@link GgufFormatException} naming the file and the problem.
 */
public final class GgufFile implements AutoCloseable {
    /** The alignment of the data section and of every tensor when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final int version;
    private final GgufMetadata metadata;
    private final long alignment;
    private final long dataStart;
    private final Map<String, GgufTensorInfo> tensors;
    private boolean closed;

    private GgufFile(Path path, Arena arena, MemorySegment mapped) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        GgufHeaderReader.Header header = new GgufHeaderReader(path, mapped).read();
        this.version = header.version();
        this.metadata = header.metadata();
        this.alignment = readAlignment(metadata);
        long end = header.endOfInfos();
        long padded = end % alignment == 0 ? end : end + (alignment - end % alignment);
        this.dataStart = padded;
        this.tensors = placeTensors(header.tensors());
    }

    /** Opens and checks a GGUF file; only regular files are accepted. */
    public static GgufFile open(Path path) {
        InputFile.problem(path).ifPresent(p -> {
            throw new GgufFormatException(path, p);
        });
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment mapped = size == 0 ? MemorySegment.ofArray(new byte[0]) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new GgufFile(path, arena, mapped);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new GgufFormatException(path, "no such file");
        } catch (IOException e) {
            arena.close();
            throw new GgufFormatException(path, "cannot read: " + e.getMessage());
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private long readAlignment(GgufMetadata md) {
        Optional<GgufValue> v = md.get(ALIGNMENT_KEY);
        if (v.isEmpty()) return DEFAULT_ALIGNMENT;
        if (!(v.get() instanceof GgufValue.Int i) || i.type() != GgufValueType.UINT32) {
            throw new GgufFormatException(path, ALIGNMENT_KEY + " is " + v.get().type() + ", expected UINT32");
        }
        long a = i.value();
        if (a == 0 || (a & (a - 1)) != 0) throw new GgufFormatException(path, ALIGNMENT_KEY + " " + a + " is not a power of two");
        return a;
    }

    /** Checks every tensor's offset and extent against the alignment, the file size and the other tensors. */
    private Map<String, GgufTensorInfo> placeTensors(GgufTensorInfo[] infos) {
        long fileSize = mapped.byteSize();
        if (infos.length > 0 && dataStart > fileSize) {
            throw new GgufFormatException(path, "truncated: the data section would start at byte " + dataStart
                    + " but the file has " + fileSize + " bytes");
        }
        for (GgufTensorInfo t : infos) {
            if (t.offset() % alignment != 0) {
                throw new GgufFormatException(path, "tensor '" + t.name() + "' offset " + t.offset()
                        + " is not a multiple of the alignment " + alignment);
            }
            long end;
            try {
                end = Math.addExact(Math.addExact(dataStart, t.offset()), t.byteSize());
            } catch (ArithmeticException e) {
                end = Long.MAX_VALUE;
            }
            if (end > fileSize) {
                throw new GgufFormatException(path, "tensor '" + t.name() + "' (" + t.byteSize() + " bytes at data offset "
                        + t.offset() + ") extends past the end of the file (" + fileSize + " bytes)");
            }
        }
        GgufTensorInfo[] byOffset = infos.clone();
        Arrays.sort(byOffset, Comparator.comparingLong(GgufTensorInfo::offset));
        GgufTensorInfo previous = null;
        for (GgufTensorInfo t : byOffset) {
            if (t.byteSize() == 0) continue;
            if (previous != null && previous.offset() + previous.byteSize() > t.offset()) {
                throw new GgufFormatException(path, "tensor '" + t.name() + "' at data offset " + t.offset()
                        + " overlaps tensor '" + previous.name() + "' (" + previous.byteSize() + " bytes at " + previous.offset() + ")");
            }
            previous = t;
        }
        LinkedHashMap<String, GgufTensorInfo> map = new LinkedHashMap<>();
        for (GgufTensorInfo t : infos) map.put(t.name(), t);
        return map;
    }

    public Path path() { return path; }

    /** 2 or 3. */
    public int version() { return version; }

    public GgufMetadata metadata() { return metadata; }

    /** {@code general.alignment}, or 32. */
    public long alignment() { return alignment; }

    /** The file offset where the data section (tensor offsets are relative to it) begins. */
    public long dataStart() { return dataStart; }

    /** The tensor infos in file order. */
    public List<GgufTensorInfo> tensorInfos() { return new ArrayList<>(tensors.values()); }

    /** A tensor with its bytes (a slice of the mapping), or an exception naming the file and the missing tensor. */
    public GgufTensor tensor(String name) {
        GgufTensorInfo info = tensors.get(name);
        if (info == null) throw new GgufFormatException(path, "no tensor named '" + name + "'");
        return new GgufTensor(info, mapped.asSlice(dataStart + info.offset(), info.byteSize()));
    }

    public boolean hasTensor(String name) { return tensors.containsKey(name); }

    /** The total bytes of all tensors. */
    public long tensorBytes() {
        long n = 0;
        for (GgufTensorInfo t : tensors.values()) n += t.byteSize();
        return n;
    }

    /** Unmaps the file (once; later calls do nothing); tensor segments handed out before are invalid afterwards. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        arena.close();
    }
}
