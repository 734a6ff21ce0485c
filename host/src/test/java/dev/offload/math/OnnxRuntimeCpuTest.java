package dev.offload.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.offload.model.onnx.proto.OnnxProtos.AttributeProto;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.ModelProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.model.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorShapeProto;
import dev.offload.model.onnx.proto.OnnxProtos.TypeProto;
import dev.offload.model.onnx.proto.OnnxProtos.ValueInfoProto;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link OnnxRuntimeCpu} against ONNX Runtime itself (1.23.2, graph optimizations off), bit for bit, on one-node
 * graphs built here: ReduceMean, Softmax and Erf over rows of awkward lengths (1, 3, 4, 5, 7, 8, 9, 17, 47, 48, 49,
 * 97, 384, 500), MatMul over awkward shapes, on seeded random inputs with outliers and the erf kernel's boundaries.
 * The models' own intermediates are compared the same way by OrtTraceMain (dev.offload.model).
 *
 * <p>The softmax reproduces the AVX-512F kernel ONNX Runtime picks on AVX-512 CPUs; on others ORT runs a different
 * exp kernel, so those cases are skipped there.
 */
class OnnxRuntimeCpuTest {
    static final int[] LENGTHS = {1, 3, 4, 5, 7, 8, 9, 17, 47, 48, 49, 97, 384, 500};
    static OrtEnvironment env;
    static OrtSession rows, matmul;

    @BeforeAll
    static void open() throws Exception {
        env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            o.setIntraOpNumThreads(2);
            // X -> Mul(X, 1) (a buffer of ORT's own, as the models' activations are) -> ReduceMean, Softmax, Erf.
            rows = env.createSession(model(List.of(
                    node("Mul", List.of("x", "one"), "y"),
                    node("ReduceMean", List.of("y"), "mean", ints("axes", -1), ints("keepdims", 1)),
                    node("Softmax", List.of("y"), "softmax", ints("axis", -1)),
                    node("Erf", List.of("y"), "erf")),
                    List.of(input("x", "r", "n")), List.of(output("mean"), output("softmax"), output("erf")),
                    List.of(TensorProto.newBuilder().setName("one").setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(1f).build())), o);
            matmul = env.createSession(model(List.of(node("MatMul", List.of("a", "b"), "c")),
                    List.of(input("a", "m", "k"), input("b", "k", "n")), List.of(output("c")), List.of()), o);
        }
    }

    @AfterAll
    static void close() throws Exception {
        rows.close();
        matmul.close();
    }

    @Test
    void reduceMeanIsEigensPairedPacketSumDividedByN() throws Exception {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int n : LENGTHS) {
            // One row for every width (ORT's buffer is aligned at its start); several rows where n keeps them aligned.
            int r = n % 4 == 0 ? 3 : 1;
            float[] x = values(rnd, r * n, 3f);
            float[] want = run(x, r, n).get("mean");
            for (int i = 0; i < r; i++) {
                assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(OnnxRuntimeCpu.mean(x, i * n, n)),
                        "ReduceMean of row " + i + " of width " + n + ": ORT " + want[i] + ", ours " + OnnxRuntimeCpu.mean(x, i * n, n));
            }
        }
    }

    @Test
    void softmaxIsMlasAvx512SumOfExponentialsTimesTheReciprocal() throws Exception {
        assumeTrue(avx512f(), "ONNX Runtime runs another softmax kernel on CPUs without AVX-512F");
        SplittableRandom rnd = new SplittableRandom(12);
        for (int n : LENGTHS) {
            float[] x = values(rnd, 2 * n, 1.5f);
            if (n > 4) x[3] = -120f;   // below the exp kernel's clamp
            float[] want = run(x, 2, n).get("softmax");
            float[] got = x.clone();
            OnnxRuntimeCpu.softmax(got, 0, n);
            OnnxRuntimeCpu.softmax(got, n, n);
            assertBitsEqual(want, got, "Softmax of width " + n);
        }
    }

    @Test
    void erfIsMlasFma3KernelAcrossItsBoundaries() throws Exception {
        SplittableRandom rnd = new SplittableRandom(13);
        float[] x = values(rnd, 4000, 5f);
        float[] special = {0f, -0f, 0.921875f, -0.921875f, Math.nextDown(0.921875f), 3.925f, -3.925f, 3.9f, 4f, -7f, 40f,
                1e-30f, -1e-8f, 0.5f, 2f};
        System.arraycopy(special, 0, x, 0, special.length);
        float[] want = run(x, 1, x.length).get("erf");
        float[] got = new float[x.length];
        for (int i = 0; i < x.length; i++) got[i] = OnnxRuntimeCpu.erf(x[i]);
        assertBitsEqual(want, got, "Erf");
    }

    @Test
    void matMulIsOneFusedMultiplyAddChainPerOutput() throws Exception {
        SplittableRandom rnd = new SplittableRandom(14);
        int[][] shapes = {{2, 1, 3}, {5, 32, 5}, {13, 32, 13}, {22, 22, 32}, {7, 97, 16}, {3, 128, 40}};
        for (int[] s : shapes) {
            int m = s[0], k = s[1], n = s[2];
            float[] a = values(rnd, m * k, 2f), b = values(rnd, k * n, 2f);
            Map<String, OnnxTensor> in = new HashMap<>();
            try {
                in.put("a", OnnxTensor.createTensor(env, FloatBuffer.wrap(a), new long[] {m, k}));
                in.put("b", OnnxTensor.createTensor(env, FloatBuffer.wrap(b), new long[] {k, n}));
                try (OrtSession.Result r = matmul.run(in)) {
                    float[] want = floats((OnnxTensor) r.get(0));
                    float[] got = new float[m * n];
                    for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) got[i * n + j] = OnnxRuntimeCpu.dot(a, i * k, 1, b, j, n, k);
                    assertBitsEqual(want, got, "MatMul " + m + "x" + k + "x" + n);
                }
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    /** Normal values times {@code scale}, with a few outliers of 20x. */
    static float[] values(SplittableRandom rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double g = Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
            v[i] = (float) (g * scale * (rnd.nextInt(50) == 0 ? 20 : 1));
        }
        return v;
    }

    static void assertBitsEqual(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + " (" + Float.toHexString(got[i]) + "), ONNX Runtime "
                        + want[i] + " (" + Float.toHexString(want[i]) + ")");
            }
        }
    }

    static Map<String, float[]> run(float[] x, int r, int n) throws Exception {
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {r, n}); OrtSession.Result res = rows.run(Map.of("x", t))) {
            Map<String, float[]> out = new HashMap<>();
            for (var e : res) out.put(e.getKey(), floats((OnnxTensor) e.getValue()));
            return out;
        }
    }

    static float[] floats(OnnxTensor t) {
        FloatBuffer b = t.getFloatBuffer();
        float[] v = new float[b.remaining()];
        b.get(v);
        return v;
    }

    static boolean avx512f() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> (" " + l + " ").contains(" avx512f ")).orElse(false);
        } catch (Exception e) {
            return false;
        }
    }

    static byte[] model(List<NodeProto> nodes, List<ValueInfoProto> inputs, List<ValueInfoProto> outputs, List<TensorProto> init) {
        GraphProto g = GraphProto.newBuilder().setName("t").addAllNode(nodes).addAllInput(inputs).addAllOutput(outputs)
                .addAllInitializer(init).build();
        return ModelProto.newBuilder().setIrVersion(7).setProducerName("offload-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(11)).setGraph(g).build().toByteArray();
    }

    static NodeProto node(String op, List<String> in, String out, AttributeProto... attrs) {
        return NodeProto.newBuilder().setOpType(op).setName(op + "_" + out).addAllInput(in).addOutput(out).addAllAttribute(List.of(attrs)).build();
    }

    static AttributeProto ints(String name, long v) {
        boolean list = name.equals("axes");
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(list ? AttributeProto.AttributeType.INTS : AttributeProto.AttributeType.INT);
        return (list ? a.addInts(v) : a.setI(v)).build();
    }

    static ValueInfoProto input(String name, String d0, String d1) {
        TensorShapeProto shape = TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(d0))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(d1)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    static ValueInfoProto output(String name) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))).build();
    }
}
