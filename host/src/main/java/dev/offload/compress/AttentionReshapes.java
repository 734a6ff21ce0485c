package dev.offload.compress;

import com.google.protobuf.ByteString;
import dev.offload.model.onnx.OnnxModel;
import dev.offload.model.onnx.OnnxNode;
import dev.offload.model.onnx.OnnxTensor;
import dev.offload.model.onnx.OnnxType;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The constants that hold an encoder graph's head count, rewritten for a model with fewer heads. In the graph
 * (see dev.offload.model.onnx.LayerPatterns#attention) Q, K and V are each split by a Reshape to [B, S, heads, head
 * size] that a Transpose [0,2,1,3] or [0,2,3,1] reads, and the context is merged by a Reshape of a Transpose
 * [0,2,1,3] to [B, S, heads x head size]. The shape a Reshape takes is a constant or a Concat of pieces (exporters
 * concatenate B and S, read from the input's Shape, with constant pieces); element 2 of it is the head count in a
 * split and the width in a merge. Those elements are found, checked against the original model (every split says
 * the same head count and the head size, every merge heads x head size) and replaced; anything else in the graph, or
 * an element that is not a constant, is refused rather than guessed. The caller's re-import proves the result.
 */
final class AttentionReshapes {
    private AttentionReshapes() {}

    /** A constant's element: {@code offset} into constant {@code name}. */
    private record Element(String name, int offset) {}

    /**
     * The constants to replace (by name, each as the whole new tensor) so that the graph runs {@code heads} heads of
     * {@code headSize}; empty when it already does.
     */
    static Map<String, TensorProto> rewritten(OnnxModel graph, int heads, int headSize, String source) {
        Map<String, OnnxNode> producers = new HashMap<>();
        Map<String, List<OnnxNode>> consumers = new HashMap<>();
        for (OnnxNode n : graph.nodes()) {
            for (String o : n.outputs()) producers.put(o, n);
            for (String i : n.inputs()) consumers.computeIfAbsent(i, x -> new ArrayList<>()).add(n);
        }
        Map<Element, Long> want = new LinkedHashMap<>();   // the element -> its new value
        Set<OnnxNode> readers = new HashSet<>();            // the nodes allowed to read a rewritten constant
        List<Element> mergeWidths = new ArrayList<>();   // checked once the old head count is known
        long oldHeads = -1;
        int splits = 0, merges = 0;
        for (OnnxNode r : graph.nodes()) {
            if (!r.opType().equals("Reshape")) continue;
            List<OnnxNode> next = consumers.getOrDefault(r.output(), List.of());
            OnnxNode prev = producers.get(r.input(0));
            boolean split = !next.isEmpty() && next.stream().allMatch(t -> isTranspose(t, 0, 2, 1, 3) || isTranspose(t, 0, 2, 3, 1));
            boolean merge = prev != null && isTranspose(prev, 0, 2, 1, 3);
            if (!split && !merge) continue;
            List<OnnxNode> path = new ArrayList<>(List.of(r));
            Element e = element(graph, producers, r, 2, split ? 4 : 3, path, source);
            long was = value(graph, e);
            if (split) {
                if (oldHeads >= 0 && was != oldHeads) throw refused(source, r, "splits into " + was + " heads, another Reshape into " + oldHeads);
                oldHeads = was;
                Element size = element(graph, producers, r, 3, 4, path, source);
                if (value(graph, size) != headSize) throw refused(source, r, "splits into heads of " + value(graph, size) + ", not " + headSize);
                want.put(e, (long) heads);
                splits++;
            } else {
                want.put(e, (long) heads * headSize);
                mergeWidths.add(e);
                merges++;
            }
            readers.addAll(path);
        }
        if (merges == 0 || splits != 3 * merges) {
            throw new IllegalArgumentException(source + ": found " + splits + " head splits and " + merges
                    + " head merges (Reshape nodes), not 3 splits per merge; compress cannot change this graph's head count");
        }
        for (Element m : mergeWidths) {
            if (value(graph, m) != oldHeads * headSize) {
                throw new IllegalArgumentException(source + ": a head merge is " + value(graph, m) + " wide, not " + oldHeads
                        + " heads x " + headSize + "; compress cannot change this graph's head count");
            }
        }
        if (oldHeads == heads) return Map.of();
        Map<String, long[]> values = new LinkedHashMap<>();
        for (var e : want.entrySet()) {
            String name = e.getKey().name();
            for (OnnxNode reader : consumers.getOrDefault(name, List.of())) {
                if (!readers.contains(reader)) throw refused(source, reader, "also reads the head count constant '" + name + "'");
            }
            values.computeIfAbsent(name, n -> graph.constants().get(n).toLongs().clone())[e.getKey().offset()] = e.getValue();
        }
        Map<String, TensorProto> out = new LinkedHashMap<>();
        for (var v : values.entrySet()) out.put(v.getKey(), integers(graph.constants().get(v.getKey()), v.getValue()));
        return out;
    }

    /**
     * Element {@code index} of Reshape {@code r}'s shape ({@code rank} elements), as a constant's element; the
     * Concat it passes through is added to {@code path}.
     */
    private static Element element(OnnxModel graph, Map<String, OnnxNode> producers, OnnxNode r, int index, int rank,
                                   List<OnnxNode> path, String source) {
        String shape = r.input(1);
        OnnxTensor c = graph.constants().get(shape);
        if (c != null) {
            if (c.size() != rank) throw refused(source, r, "has a shape of " + c.size() + " elements, not " + rank);
            return new Element(shape, index);
        }
        OnnxNode concat = producers.get(shape);
        if (concat == null || !concat.opType().equals("Concat") || concat.attrInt("axis", 0) != 0) {
            throw refused(source, r, "takes its shape from neither a constant nor a Concat");
        }
        if (!path.contains(concat)) path.add(concat);
        int at = 0;
        Element found = null;
        for (String piece : concat.inputs()) {
            OnnxTensor p = graph.constants().get(piece);
            OnnxNode made = producers.get(piece);
            int length;
            if (p != null) length = p.size();
            else if (made != null && made.opType().equals("Unsqueeze")) length = 1;   // a scalar (B or S read from a Shape)
            else throw refused(source, concat, "has a shape piece of unknown length ('" + piece + "')");
            if (index >= at && index < at + length) {
                if (p == null) throw refused(source, r, "computes shape element " + index + " instead of holding it as a constant");
                found = new Element(piece, index - at);
            }
            at += length;
        }
        if (at != rank) throw refused(source, r, "has a shape of " + at + " elements, not " + rank);
        return found;
    }

    private static long value(OnnxModel graph, Element e) { return graph.constants().get(e.name()).toLongs()[e.offset()]; }

    private static boolean isTranspose(OnnxNode n, long... perm) {
        return n.opType().equals("Transpose") && Arrays.equals(n.attrInts("perm"), perm);
    }

    /** {@code was} with new values, same name, type and dimensions. */
    private static TensorProto integers(OnnxTensor was, long[] v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(was.name()).setDataType(was.type().code);
        for (long d : was.shape()) t.addDims(d);
        ByteBuffer b = ByteBuffer.allocate(v.length * was.type().bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            switch (was.type()) {
                case INT64 -> b.putLong(x);
                case INT32 -> b.putInt(Math.toIntExact(x));
                default -> throw new IllegalArgumentException("tensor '" + was.name() + "' holds a shape as " + was.type() + ", not an integer type");
            }
        }
        return t.setRawData(ByteString.copyFrom(b.array())).build();
    }

    private static IllegalArgumentException refused(String source, OnnxNode n, String why) {
        return new IllegalArgumentException(source + ": " + n + " " + why + "; compress cannot change this graph's head count");
    }
}
