package dev.offload.bench;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.ModelProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.model.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorShapeProto;
import dev.offload.model.onnx.proto.OnnxProtos.TypeProto;
import dev.offload.model.onnx.proto.OnnxProtos.ValueInfoProto;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * ONNX Runtime's MatMulInteger (uint8 A x int8 B -> int32) as the INT8 GEMM peer: a one-node model built here,
 * with B and both scalar zero points as constant initializers (so ONNX Runtime may pre-pack B once, as offload
 * does) and A the only input. Intra-op threads as given, one inter-op thread, all graph optimizations.
 */
final class OrtMatMulInteger implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final OnnxTensor a;

    /**
     * @param a  A [m][k] uint8, row-major
     * @param b  B [k][n] int8, row-major
     */
    OrtMatMulInteger(int m, int k, int n, byte[] a, int aZeroPoint, byte[] b, int bZeroPoint, int threads) throws OrtException {
        byte[] model = model(m, k, n, b, aZeroPoint, bZeroPoint).toByteArray();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(model, options);
        }
        ByteBuffer direct = ByteBuffer.allocateDirect(a.length);
        direct.put(a).flip();
        this.a = OnnxTensor.createTensor(env, direct, new long[] {m, k}, OnnxJavaType.UINT8);
    }

    /** One call: A in, C [m][n] int32 out (allocated by ONNX Runtime, as every caller of it gets it). */
    void run() {
        try (OrtSession.Result r = session.run(Map.of("A", a))) {
            if (r.size() != 1) throw new IllegalStateException("MatMulInteger model returned " + r.size() + " outputs");
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime MatMulInteger failed: " + e.getMessage(), e);
        }
    }

    /** C as int32 values: lets the bench check that both sides computed the same product. */
    int[] result() {
        try (OrtSession.Result r = session.run(Map.of("A", a))) {
            var buffer = ((OnnxTensor) r.get(0)).getIntBuffer();
            int[] c = new int[buffer.remaining()];
            buffer.get(c);
            return c;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime MatMulInteger failed: " + e.getMessage(), e);
        }
    }

    /** The model: Y = MatMulInteger(A, B, a_zero_point, b_zero_point), opset 17. */
    static ModelProto model(int m, int k, int n, byte[] b, int aZeroPoint, int bZeroPoint) {
        GraphProto graph = GraphProto.newBuilder()
                .setName("matmul_integer_" + m + "x" + k + "x" + n)
                .addNode(NodeProto.newBuilder().setOpType("MatMulInteger").setName("gemm")
                        .addInput("A").addInput("B").addInput("a_zero_point").addInput("b_zero_point").addOutput("Y"))
                .addInitializer(tensor("B", TensorProto.DataType.INT8, b, k, n))
                .addInitializer(tensor("a_zero_point", TensorProto.DataType.UINT8, new byte[] {(byte) aZeroPoint}))
                .addInitializer(tensor("b_zero_point", TensorProto.DataType.INT8, new byte[] {(byte) bZeroPoint}))
                .addInput(value("A", TensorProto.DataType.UINT8, m, k))
                .addOutput(value("Y", TensorProto.DataType.INT32, m, n))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("offload-bench")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph)
                .build();
    }

    private static TensorProto tensor(String name, TensorProto.DataType type, byte[] raw, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber()).setRawData(ByteString.copyFrom(raw));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    private static ValueInfoProto value(String name, TensorProto.DataType type, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape)))
                .build();
    }

    @Override
    public void close() {
        a.close();
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ONNX Runtime session: " + e.getMessage(), e);
        }
    }
}
