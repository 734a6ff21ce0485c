package dev.offload.model;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.offload.model.onnx.OnnxModel;
import dev.offload.model.onnx.OnnxNode;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.ModelProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import dev.offload.model.onnx.proto.OnnxProtos.TypeProto;
import dev.offload.model.onnx.proto.OnnxProtos.ValueInfoProto;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * ONNX Runtime (no graph optimizations, as {@link OrtEncoder}) with every computed intermediate of the model made a
 * graph output, so that each node's output can be compared bit for bit with offload's arithmetic fed the very same
 * inputs ({@link OrtTraceMain}, {@code OnnxRuntimeArithmeticTest}).
 */
final class OrtTrace {
    private OrtTrace() {}

    /** One intermediate: exactly one of floats, ints (int32 and int64 as int), bytes is set. */
    record Value(long[] shape, float[] floats, int[] ints, byte[] bytes) {
        int size() {
            long n = 1;
            for (long d : shape) n *= d;
            return Math.toIntExact(n);
        }
    }

    /** Ops whose outputs are traced, and the element type of each of their outputs (null: the Cast's "to"). */
    private static final Map<String, int[]> TRACED = Map.ofEntries(
            Map.entry("Add", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("Sub", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("Mul", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("Div", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("Pow", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("Sqrt", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("Erf", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("ReduceMean", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("Softmax", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("MatMul", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("Transpose", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("Reshape", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("DequantizeLinear", new int[] {TensorProto.DataType.FLOAT_VALUE}),
            Map.entry("MatMulInteger", new int[] {TensorProto.DataType.INT32_VALUE}),
            Map.entry("DynamicQuantizeLinear", new int[] {TensorProto.DataType.UINT8_VALUE, TensorProto.DataType.FLOAT_VALUE,
                    TensorProto.DataType.UINT8_VALUE}));

    /** The model with the outputs of every traced node (float-valued ones only, plus quantized data) added. */
    static byte[] withIntermediateOutputs(byte[] onnx, OnnxModel parsed) throws IOException {
        ModelProto model = ModelProto.parseFrom(onnx);
        GraphProto.Builder g = model.getGraph().toBuilder();
        Set<String> outputs = new java.util.HashSet<>();
        for (ValueInfoProto v : g.getOutputList()) outputs.add(v.getName());
        Map<String, String> producer = new HashMap<>();
        for (NodeProto n : g.getNodeList()) for (String o : n.getOutputList()) producer.put(o, n.getOpType());
        for (NodeProto n : g.getNodeList()) {
            int[] types = TRACED.get(n.getOpType());
            if (types == null) continue;
            // Reshapes and Adds of shape tensors (int64) are not float: keep only values computed from float data.
            if (Set.of("Add", "Sub", "Mul", "Div", "Reshape", "Transpose").contains(n.getOpType()) && !floatData(n, parsed, producer)) continue;
            for (int i = 0; i < n.getOutputCount() && i < types.length; i++) {
                String name = n.getOutput(i);
                if (outputs.add(name)) {
                    g.addOutput(ValueInfoProto.newBuilder().setName(name)
                            .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(types[i]))));
                }
            }
        }
        return model.toBuilder().setGraph(g).build().toByteArray();
    }

    private static boolean floatData(NodeProto n, OnnxModel parsed, Map<String, String> producer) {
        String in = n.getInput(0);
        if (parsed.constants().containsKey(in)) in = n.getInputCount() > 1 ? n.getInput(1) : in;
        String op = producer.get(in);
        return op != null && !Set.of("Shape", "Gather", "Unsqueeze", "Concat", "Slice", "Cast").contains(op)
                || parsed.constants().containsKey(in) && parsed.constants().get(in).floats() != null;
    }

    /** Runs {@code traced} (a model from {@link #withIntermediateOutputs}) on one unpadded sentence. */
    static Map<String, Value> run(byte[] traced, TokenBatch one) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            o.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(traced, o)) {
                long[] shape = {one.batch(), one.length()};
                Map<String, OnnxTensor> inputs = new HashMap<>();
                try {
                    inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(one.ids()), shape));
                    inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(one.mask()), shape));
                    if (session.getInputNames().contains("token_type_ids")) {
                        inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(one.typeIds()), shape));
                    }
                    Map<String, Value> out = new LinkedHashMap<>();
                    try (OrtSession.Result r = session.run(inputs)) {
                        for (var e : r) {
                            OnnxTensor t = (OnnxTensor) e.getValue();
                            long[] s = t.getInfo().getShape();
                            OnnxJavaType type = t.getInfo().type;
                            Value v = switch (type) {
                                case FLOAT -> { var b = t.getFloatBuffer(); float[] a = new float[b.remaining()]; b.get(a); yield new Value(s, a, null, null); }
                                case INT32 -> { var b = t.getIntBuffer(); int[] a = new int[b.remaining()]; b.get(a); yield new Value(s, null, a, null); }
                                case UINT8, INT8 -> { var b = t.getByteBuffer(); byte[] a = new byte[b.remaining()]; b.get(a); yield new Value(s, null, null, a); }
                                default -> null;
                            };
                            if (v != null) out.put(e.getKey(), v);
                        }
                    }
                    return out;
                } finally {
                    inputs.values().forEach(OnnxTensor::close);
                }
            }
        }
    }

    static OnnxModel parse(byte[] onnx, String source) throws IOException {
        return OnnxModel.parse(new ByteArrayInputStream(onnx), source);
    }

    /** A node's output name that this trace can compare (its first output). */
    static String out(OnnxNode n) { return n.output(); }
}
