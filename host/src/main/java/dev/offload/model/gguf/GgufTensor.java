package dev.offload.model.gguf;

import java.lang.foreign.MemorySegment;

/**
 * A tensor of an open {@link GgufFile}: its description and its bytes, a slice of the memory-mapped file (valid
 * until the file is closed; nothing is copied).
 */
public record GgufTensor(GgufTensorInfo info, MemorySegment data) {
    public String name() { return info.name(); }

    public GgmlType type() { return info.type(); }

    public long[] shape() { return info.shape(); }
}
