package dev.offload.model.onnx;

import dev.offload.limits.Sizes;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import dev.offload.model.UnsupportedModelException;
import dev.offload.model.onnx.proto.OnnxProtos.AttributeProto;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.ModelProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.model.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import dev.offload.model.onnx.proto.OnnxProtos.ValueInfoProto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model as offload sees it: the nodes of the main graph in file (topological) order, the constant
 * tensors (initializers and Constant nodes' values), graph inputs and outputs, and the default-domain opset.
 */
public record OnnxModel(String source, String producer, long opset, Map<String, Long> opsets, List<OnnxNode> nodes,
                        Map<String, OnnxTensor> constants, List<ValueInfo> inputs, List<ValueInfo> outputs) {

    /** A graph input or output: its name, element type and dimensions (-1 for a symbolic one such as batch). */
    public record ValueInfo(String name, int elemType, long[] dims) {}

    /** Parses a model from a stream (its bytes are copied as protobuf reads them). */
    public static OnnxModel parse(InputStream in, String source) throws IOException {
        CodedInputStream coded = CodedInputStream.newInstance(in);
        coded.setSizeLimit(Integer.MAX_VALUE);  // model files exceed protobuf's 64 MB default
        return parse(coded, source);
    }

    /** Parses a model held in memory; tensors' raw data alias {@code bytes} until they are decoded. */
    public static OnnxModel parse(byte[] bytes, String source) {
        return parseAliasing(UnsafeByteOperations.unsafeWrap(bytes), source);
    }

    /** Parses a model from a buffer (a memory-mapped file); tensors' raw data alias the buffer until they are decoded. */
    public static OnnxModel parse(ByteBuffer buffer, String source) {
        return parseAliasing(UnsafeByteOperations.unsafeWrap(buffer), source);
    }

    /**
     * Protobuf aliases bytes fields only when its input is marked immutable, which a ByteString's own coded input
     * is (CodedInputStream.newInstance(byte[] or ByteBuffer) is not, and copies every raw_data). Nothing writes to
     * the bytes while the model is parsed and decoded.
     */
    private static OnnxModel parseAliasing(ByteString bytes, String source) {
        CodedInputStream coded = bytes.newCodedInput();
        coded.enableAliasing(true);
        return parse(coded, source);
    }

    private static OnnxModel parse(CodedInputStream coded, String source) {
        ModelProto model;
        try {
            model = ModelProto.parseFrom(coded);
        } catch (IOException e) {
            throw new UnsupportedModelException(source + ": not an ONNX model file (" + e.getMessage() + ")", e);
        }
        if (!model.hasGraph()) throw new UnsupportedModelException(source + ": not an ONNX model file (no graph)");
        Map<String, Long> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            opsets.put(o.getDomain().isEmpty() ? "ai.onnx" : o.getDomain(), o.getVersion());
        }
        GraphProto g = model.getGraph();
        Map<String, OnnxTensor> constants = new LinkedHashMap<>();
        for (TensorProto t : g.getInitializerList()) constants.put(t.getName(), tensor(t, t.getName(), source));
        List<OnnxNode> nodes = new ArrayList<>();
        for (NodeProto n : g.getNodeList()) {
            Map<String, AttributeProto> attrs = new LinkedHashMap<>();
            for (AttributeProto a : n.getAttributeList()) attrs.put(a.getName(), a);
            OnnxNode node = new OnnxNode(n.getName(), n.getOpType(), n.getDomain(), List.copyOf(n.getInputList()),
                    List.copyOf(n.getOutputList()), attrs);
            if (node.opType().equals("Constant") && node.domain().isEmpty()) {
                // Constant nodes are values, not computation: fold them into the constant table right away.
                AttributeProto value = attrs.get("value");
                if (value == null || !value.hasT()) {
                    throw new UnsupportedModelException(source + ": " + node + " has no tensor 'value' (only tensor constants are supported)");
                }
                constants.put(node.output(), tensor(value.getT(), node.output(), source));
            } else {
                nodes.add(node);
            }
        }
        List<ValueInfo> inputs = new ArrayList<>();
        for (ValueInfoProto v : g.getInputList()) if (!constants.containsKey(v.getName())) inputs.add(valueInfo(v));
        List<ValueInfo> outputs = g.getOutputList().stream().map(OnnxModel::valueInfo).toList();
        String producer = (model.getProducerName() + " " + model.getProducerVersion()).strip();
        return new OnnxModel(source, producer, opsets.getOrDefault("ai.onnx", 0L), opsets, List.copyOf(nodes),
                constants, List.copyOf(inputs), outputs);
    }

    private static ValueInfo valueInfo(ValueInfoProto v) {
        var t = v.getType().getTensorType();
        long[] dims = t.getShape().getDimList().stream().mapToLong(d -> d.hasDimValue() ? d.getDimValue() : -1).toArray();
        return new ValueInfo(v.getName(), t.getElemType(), dims);
    }

    /** Decodes a TensorProto from raw_data (little-endian) or the typed repeated fields into its one array. */
    static OnnxTensor tensor(TensorProto t, String name, String source) {
        String what = source + ": tensor '" + name + "'";
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
            throw new UnsupportedModelException(what + " keeps its data in an external file ("
                    + t.getExternalDataList().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()
                    + "); offload reads self-contained .onnx files only: re-save the model with all tensors inside"
                    + " (onnx.save_model(model, path, save_as_external_data=False))");
        }
        OnnxType type = OnnxType.of(t.getDataType(), what);
        long[] shape = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        int n = Sizes.arrayLength(what, shape);   // huge or negative dims are refused here, before any allocation
        if (t.hasRawData()) {
            ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (raw.remaining() != (long) n * type.bytes) {
                throw new UnsupportedModelException(what + " has " + raw.remaining() + " raw bytes, its shape "
                        + java.util.Arrays.toString(shape) + " of " + type + " needs " + (long) n * type.bytes);
            }
            return switch (type) {
                case FLOAT -> { float[] v = new float[n]; raw.asFloatBuffer().get(v); yield OnnxTensor.ofFloats(name, shape, v); }
                case INT64 -> { long[] v = new long[n]; raw.asLongBuffer().get(v); yield OnnxTensor.ofLongs(name, type, shape, v); }
                case INT32 -> {
                    long[] v = new long[n];
                    for (int i = 0; i < n; i++) v[i] = raw.getInt(4 * i);
                    yield OnnxTensor.ofLongs(name, type, shape, v);
                }
                case INT8, UINT8 -> { byte[] v = new byte[n]; raw.get(v); yield OnnxTensor.ofBytes(name, type, shape, v); }
            };
        }
        int have = switch (type) {
            case FLOAT -> t.getFloatDataCount();
            case INT64 -> t.getInt64DataCount();
            case INT32, INT8, UINT8 -> t.getInt32DataCount();
        };
        if (have != n) {
            throw new UnsupportedModelException(what + " has " + have + " typed values, its shape "
                    + java.util.Arrays.toString(shape) + " needs " + n);
        }
        return switch (type) {
            case FLOAT -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) v[i] = t.getFloatData(i);
                yield OnnxTensor.ofFloats(name, shape, v);
            }
            case INT64 -> OnnxTensor.ofLongs(name, type, shape, t.getInt64DataList().stream().mapToLong(Long::longValue).toArray());
            case INT32 -> OnnxTensor.ofLongs(name, type, shape, t.getInt32DataList().stream().mapToLong(Integer::longValue).toArray());
            case INT8, UINT8 -> {
                byte[] v = new byte[n];
                for (int i = 0; i < n; i++) v[i] = (byte) t.getInt32Data(i);
                yield OnnxTensor.ofBytes(name, type, shape, v);
            }
        };
    }

    /** A listing for humans: opsets, inputs, outputs, then one line per node (op, name, inputs -> outputs). */
    public String dump() {
        StringBuilder sb = new StringBuilder();
        sb.append(source).append(" (").append(producer).append(") opsets ").append(opsets).append('\n');
        for (ValueInfo v : inputs) sb.append("input  ").append(v.name()).append(' ').append(java.util.Arrays.toString(v.dims())).append('\n');
        for (ValueInfo v : outputs) sb.append("output ").append(v.name()).append(' ').append(java.util.Arrays.toString(v.dims())).append('\n');
        for (OnnxNode n : nodes) {
            sb.append(String.format("%-22s %-50s ", n.opType(), n.name()));
            sb.append(n.inputs().stream().map(i -> constants.containsKey(i) ? describe(constants.get(i)) : i).toList());
            sb.append(" -> ").append(n.outputs());
            if (!n.attributes().isEmpty()) sb.append(' ').append(n.attributes().keySet());
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String describe(OnnxTensor t) {
        if (t.size() <= 4) {
            return "const " + t.type() + (t.floats() != null ? java.util.Arrays.toString(t.floats()) : java.util.Arrays.toString(t.toLongs()));
        }
        return "const " + t;
    }
}
