package dev.offload.ops.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.ModelProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.model.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorShapeProto;
import dev.offload.model.onnx.proto.OnnxProtos.TypeProto;
import dev.offload.model.onnx.proto.OnnxProtos.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link QuantizeReference#dynamicQuantizeLinear} against ONNX Runtime's own DynamicQuantizeLinear (a one-node
 * graph), bit for bit: random inputs, inputs of one sign, and the corner the rules disagreed on before, an all-zero
 * input (ONNX Runtime: scale 1, zero point 0, every value 0).
 */
class DynamicQuantizeLinearOrtTest {
    static OrtEnvironment env;
    static OrtSession session;

    @BeforeAll
    static void open() throws Exception {
        env = OrtEnvironment.getEnvironment();
        NodeProto node = NodeProto.newBuilder().setOpType("DynamicQuantizeLinear").setName("dql").addInput("x")
                .addOutput("y").addOutput("scale").addOutput("zero_point").build();
        GraphProto g = GraphProto.newBuilder().setName("dql").addNode(node)
                .addInput(value("x", TensorProto.DataType.FLOAT_VALUE, true))
                .addOutput(value("y", TensorProto.DataType.UINT8_VALUE, true))
                .addOutput(value("scale", TensorProto.DataType.FLOAT_VALUE, false))
                .addOutput(value("zero_point", TensorProto.DataType.UINT8_VALUE, false)).build();
        byte[] model = ModelProto.newBuilder().setIrVersion(7).setProducerName("offload-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(11)).setGraph(g).build().toByteArray();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            session = env.createSession(model, o);
        }
    }

    @AfterAll
    static void close() throws Exception { session.close(); }

    private static ValueInfoProto value(String name, int type, boolean vector) {
        TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(type);
        if (vector) t.setShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("n")));
        else t.setShape(TensorShapeProto.newBuilder());
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(t)).build();
    }

    private static QuantizeReference.DynamicQuantized ort(float[] x) throws Exception {
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {x.length});
             OrtSession.Result r = session.run(Map.of("x", t))) {
            ByteBuffer y = ((OnnxTensor) r.get("y").orElseThrow()).getByteBuffer();
            byte[] data = new byte[x.length];
            y.get(data);
            float scale = ((OnnxTensor) r.get("scale").orElseThrow()).getFloatBuffer().get(0);
            int zp = ((OnnxTensor) r.get("zero_point").orElseThrow()).getByteBuffer().get(0) & 0xFF;
            return new QuantizeReference.DynamicQuantized(data, scale, zp);
        }
    }

    private static void assertSameAsOrt(float[] x, String what) throws Exception {
        QuantizeReference.DynamicQuantized want = ort(x), got = QuantizeReference.dynamicQuantizeLinear(x);
        assertEquals(Float.floatToIntBits(want.scale()), Float.floatToIntBits(got.scale()), what + ": scale " + want.scale() + " vs " + got.scale());
        assertEquals(want.zeroPoint(), got.zeroPoint(), what + ": zero point");
        assertArrayEquals(want.data(), got.data(), what + ": data");
    }

    @Test
    void anAllZeroInputHasOnnxRuntimesScale() throws Exception {
        for (int n : new int[] {1, 7, 64}) assertSameAsOrt(new float[n], "zeros[" + n + "]");
        QuantizeReference.DynamicQuantized z = QuantizeReference.dynamicQuantizeLinear(new float[5]);
        assertEquals(1f, z.scale(), "ONNX Runtime's rule for an empty range: scale 1");
        assertEquals(0, z.zeroPoint());
    }

    @Test
    void randomAndOneSignedInputsMatchOnnxRuntime() throws Exception {
        SplittableRandom rnd = new SplittableRandom(23);
        for (int trial = 0; trial < 40; trial++) {
            int n = 1 + rnd.nextInt(300);
            float[] x = new float[n];
            double lo = trial % 3 == 0 ? 0 : -3, hi = trial % 3 == 1 ? 0 : 3;   // some all >= 0, some all <= 0
            for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
            assertSameAsOrt(x, "trial " + trial);
        }
    }
}
