package dev.offload.compress;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import dev.offload.model.BlockQuantizedLinear;
import dev.offload.model.FactorizedLinear;
import dev.offload.model.FloatLinearWeights;
import dev.offload.model.Pooling;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.onnx.OnnxMetadata;
import dev.offload.model.onnx.OnnxModel;
import dev.offload.model.onnx.OnnxNode;
import dev.offload.model.onnx.OnnxTensor;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.ModelProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.model.onnx.proto.OnnxProtos.StringStringEntryProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a compressed encoder as an ONNX file: the original model's graph, node for node, with the changed linears'
 * initializers replaced (pruned weights as int8 with zeros, removed neurons and heads as genuinely smaller weight,
 * scale and bias tensors; for removed heads also the Reshape constants that hold the head count, see
 * {@link AttentionReshapes}), factorized linears as two int8 products in a row ({@link FactorizedOnnx}), a 4-bit
 * linear's node chain as one MatMulNBits node ({@link MatMulNBitsRewrite}) and {@link OnnxMetadata} entries added.
 * ONNX Runtime runs the file as it is, and offload's importer
 * reads it as it reads the original, so both can judge each other on the compressed model too.
 *
 * <p>Which initializer holds which weight is found by identity: the importer decodes each initializer into one array
 * and uses that array as the model's weight (dev.offload.model.onnx.ImportedWeights), so the original linear's arrays
 * are the initializers' arrays. A weight that had to be converted at import (uint8 weights, per-column zero points of
 * a layer whose width changes) is refused rather than guessed.
 */
public final class CompressedOnnx {
    private CompressedOnnx() {}

    /**
     * @param original the original file's bytes
     * @param parsed   the same bytes as parsed for the import that made {@code c}'s original model
     */
    public static byte[] write(byte[] original, OnnxModel parsed, Compressor.Compressed c, Pooling pooling, String source) {
        Map<Object, String> names = new IdentityHashMap<>();
        for (OnnxTensor t : parsed.constants().values()) {
            Object array = t.bytes() != null ? t.bytes() : t.floats() != null ? t.floats() : t.longs();
            names.put(array, t.name());
        }
        // A weight's zero point is MatMulInteger's fourth input (decoded to a new array at import: found by name).
        Map<String, String> zeroPointOf = new HashMap<>();
        for (OnnxNode n : parsed.nodes()) {
            if (n.opType().equals("MatMulInteger") && n.inputs().size() > 3 && !n.input(3).isEmpty()) zeroPointOf.put(n.input(1), n.input(3));
        }
        Map<String, TensorProto> replace = new HashMap<>();
        Map<String, FactorizedLinear> factorized = new LinkedHashMap<>();
        Map<String, BlockQuantizedLinear> fourBit = new HashMap<>();
        for (var e : c.replaced().entrySet()) {
            QuantizedLinear was = e.getKey();
            String w = names.get(was.weight());
            if (w == null) throw new IllegalArgumentException(source + ": a linear's weight is not an int8 initializer as stored (uint8 weights are not supported by compress)");
            switch (e.getValue()) {
                case QuantizedLinear now -> replaceInitializers(parsed, names, zeroPointOf, replace, was, now, w, source);
                case FactorizedLinear f -> factorized.put(w, f);
                case BlockQuantizedLinear b -> fourBit.put(w, b);
                case FloatLinearWeights f -> throw new IllegalArgumentException(source + ": compress does not turn int8 linears into float ones");
            }
        }
        if (c.spec().method() == Method.HEADS) {
            replace.putAll(AttentionReshapes.rewritten(parsed, c.model().config().heads(), c.model().config().headSize(), source));
        }
        ModelProto model = parse(original, source);
        GraphProto.Builder g = model.getGraph().toBuilder();
        int done = 0;
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = replace.get(g.getInitializer(i).getName());
            if (t != null) { g.setInitializer(i, t); done++; }
        }
        // A shape constant may be a Constant node's value rather than an initializer (the importer reads both alike).
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto n = g.getNode(i);
            TensorProto t = n.getOpType().equals("Constant") && n.getOutputCount() == 1 ? replace.get(n.getOutput(0)) : null;
            if (t == null) continue;
            NodeProto.Builder b = n.toBuilder();
            for (int a = 0; a < b.getAttributeCount(); a++) {
                if (b.getAttribute(a).getName().equals("value")) {
                    b.setAttribute(a, b.getAttribute(a).toBuilder().setT(t.toBuilder().setName(b.getAttribute(a).getT().getName())));
                    done++;
                }
            }
            g.setNode(i, b);
        }
        if (done != replace.size()) throw new IllegalArgumentException(source + ": " + (replace.size() - done) + " changed tensor(s) are neither graph initializers nor Constant nodes");
        FactorizedOnnx.rewrite(g, factorized, source);
        ModelProto.Builder m = model.toBuilder();
        if (!fourBit.isEmpty()) MatMulNBitsRewrite.apply(m, g, fourBit, source);
        m.setGraph(g);
        metadata(m, OnnxMetadata.METHOD, c.spec().method().id);
        metadata(m, OnnxMetadata.TARGET, CompressionSpec.fmt(c.spec().target()));
        metadata(m, OnnxMetadata.SOURCE, source);
        if (c.spec().method() == Method.HEADS) metadata(m, OnnxMetadata.IMPORTANCE, c.spec().importance().id);
        metadata(m, OnnxMetadata.POOLING, pooling.name().toLowerCase(Locale.ROOT));
        if (c.spec().format() != null) metadata(m, OnnxMetadata.SPARSE_FORMAT, c.spec().format().toString());
        return m.build().toByteArray();
    }

    /** A pruned or narrowed linear: its weight initializer, and where its width changed its scale, zero point and bias. */
    private static void replaceInitializers(OnnxModel parsed, Map<Object, String> names, Map<String, String> zeroPointOf,
                                            Map<String, TensorProto> replace, QuantizedLinear was, QuantizedLinear now, String w, String source) {
        replace.put(w, TensorProto.newBuilder().setName(w).setDataType(TensorProto.DataType.INT8_VALUE)
                .addDims(now.inputs()).addDims(now.outputs()).setRawData(ByteString.copyFrom(now.weight())).build());
        if (now.outputs() == was.outputs()) return;
        if (was.zeroPoint() != null) throw new IllegalArgumentException(source + ": non-zero weight zero points; compress cannot narrow this layer");
        String z = zeroPointOf.get(w);
        OnnxTensor zt = z == null ? null : parsed.constants().get(z);
        // All zero (else refused above): a per-column one becomes as many zeros as the layer has columns now.
        if (zt != null && zt.size() != 1) replace.put(z, TensorProto.newBuilder().setName(z).setDataType(zt.type().code)
                .addDims(now.outputs()).setRawData(ByteString.copyFrom(new byte[now.outputs()])).build());
        String s = names.get(was.scale());
        // A scale not found is a per-tensor one the importer repeated per column: it stays as it is.
        if (s != null) replace.put(s, FactorizedOnnx.floats(s, now.scale()));
        String b = names.get(was.bias());
        if (b == null) throw new IllegalArgumentException(source + ": a narrowed linear's bias is not an initializer");
        replace.put(b, FactorizedOnnx.floats(b, now.bias()));
    }

    private static void metadata(ModelProto.Builder m, String key, String value) {
        for (int i = 0; i < m.getMetadataPropsCount(); i++) {
            if (m.getMetadataProps(i).getKey().equals(key)) { m.removeMetadataProps(i); break; }
        }
        m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(key).setValue(value));
    }

    private static ModelProto parse(byte[] bytes, String source) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setSizeLimit(Integer.MAX_VALUE);
            return ModelProto.parseFrom(in);
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": " + e.getMessage(), e);
        }
    }
}
