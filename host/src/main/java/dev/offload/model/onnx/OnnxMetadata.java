package dev.offload.model.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.offload.graph.SparseFormat;
import dev.offload.model.Pooling;
import dev.offload.model.onnx.proto.OnnxProtos.StringStringEntryProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A model file's {@code metadata_props}, and the entries offload gives a meaning: {@code offload compress} writes how
 * the file was made, how it pools, and the sparse format its zeros were pruned for. ONNX Runtime ignores these entries (it runs the
 * zeros densely); offload reads them when it loads the file, so the file runs as it was made.
 */
public record OnnxMetadata(Map<String, String> entries) {
    public static final String METHOD = "offload.compress.method", TARGET = "offload.compress.target",
            SOURCE = "offload.compress.source", POOLING = "offload.pooling", SPARSE_FORMAT = "offload.sparse.format",
            IMPORTANCE = "offload.compress.importance";

    /** The pooling the file asks for (mean or cls), if it says. */
    public Optional<Pooling> pooling() {
        String p = entries.get(POOLING);
        return p == null ? Optional.empty() : Optional.of(Pooling.valueOf(p.toUpperCase(Locale.ROOT)));
    }

    /** The format the file's zero weights are stored in on the device, if it was pruned unstructured. */
    public Optional<SparseFormat> sparseFormat() {
        String f = entries.get(SPARSE_FORMAT);
        return f == null ? Optional.empty() : Optional.of(SparseFormat.parse(f));
    }

    /**
     * Reads only field 14 (metadata_props) of the ModelProto in {@code file}: the graph and its weights are skipped
     * over, not parsed, so this costs a few reads of a memory mapping whatever the file's size.
     */
    public static OnnxMetadata read(Path file) {
        Map<String, String> entries = new LinkedHashMap<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() > Integer.MAX_VALUE) return new OnnxMetadata(entries);
            CodedInputStream in = CodedInputStream.newInstance(channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()));
            in.setSizeLimit(Integer.MAX_VALUE);
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (WireFormat.getTagFieldNumber(tag) == 14 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    StringStringEntryProto e = StringStringEntryProto.parseFrom(in.readBytes());
                    entries.put(e.getKey(), e.getValue());
                } else if (!in.skipField(tag)) {
                    break;
                }
            }
        } catch (IOException e) {
            // Not a readable protobuf: the importer, which reads the file next, says what is wrong with it.
            return new OnnxMetadata(Map.of());
        } catch (RuntimeException e) {
            throw new UncheckedIOException(new IOException(file + ": " + e.getMessage(), e));
        }
        return new OnnxMetadata(Map.copyOf(entries));
    }
}
