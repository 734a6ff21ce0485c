package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.offload.graph.Attention;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.TensorType;
import dev.offload.ops.gemm.Activation;
import dev.offload.tensor.DType;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ONNX Runtime forms of the ops (imported models' LayerNorm, attention and GELU epilogue) on OpenCL against the
 * java device, bit for bit: both sides compute the same float operations in the same order
 * (dev.offload.math.OnnxRuntimeCpu; layers.cl's layer_norm_onnx, attention.cl's attention_onnx, int8_gemm.cl's GELU_ERF_ONNX),
 * so every value must be identical, at widths around the kernels' 4- and 16-lane steps, with GQA, key lengths of 0,
 * partial and full, and outputs poisoned before the run.
 */
class OnnxRuntimeOpsOpenClTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private final SplittableRandom random = new SplittableRandom(7);

    private float[] floats(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        return a;
    }

    /** Runs the graph on java and on the OpenCL device and requires every output value to be bit-identical. */
    private void assertIdentical(Graph g, Map<String, HostTensor> in, String what) {
        GraphRuntime.Result want = GraphFixtures.run(g, CL.pool(), "java", in), got = GraphFixtures.run(g, CL.pool(), "cl:cpu", in);
        for (var e : want.outputs().entrySet()) {
            float[] w = e.getValue().floats(), o = got.output(e.getKey()).floats();
            assertEquals(w.length, o.length, what);
            for (int i = 0; i < w.length; i++) {
                if (Float.floatToIntBits(w[i]) != Float.floatToIntBits(o[i])) {
                    throw new AssertionError(what + ": element " + i + " is " + o[i] + " on OpenCL, " + w[i] + " on java");
                }
            }
        }
    }

    @Test
    void layerNormInOnnxRuntimeFormIsBitIdenticalForWidthsAroundThePacketSizes() {
        for (int cols : new int[] {1, 3, 4, 5, 9, 15, 16, 17, 61, 384}) {
            for (boolean beta : new boolean[] {true, false}) {
                TensorType t = TensorType.of(DType.FLOAT32, 7, cols);
                GraphBuilder b = new GraphBuilder("ln");
                b.input("x", t);
                Graph g = b.output(b.add1("ln", new LayerNorm(floats(cols, 2), beta ? floats(cols, 1) : null, 1e-12f, true), "x")).build();
                assertIdentical(g, Map.of("x", HostTensor.of(t, floats(7 * cols, 3))), "layer_norm_onnx cols " + cols + (beta ? "" : " without beta"));
            }
        }
    }

    /**
     * A LayerNorm with a residual input is the residual Add followed by the LayerNorm, bit for bit, on each device
     * (the encoder graph fuses them); in the ONNX Runtime form OpenCL and java agree bit for bit as well. (The plain
     * form's java reference sums in double, its kernel in float lanes: they differ by rounding, LayersOpenClTest.)
     */
    @Test
    void layerNormOfXPlusResidualIsTheAddThenTheNormBitForBit() {
        for (int cols : new int[] {1, 5, 15, 16, 17, 61, 384}) {
            for (boolean onnxRuntime : new boolean[] {true, false}) {
                TensorType t = TensorType.of(DType.FLOAT32, 2, 7, cols);
                LayerNorm norm = new LayerNorm(floats(cols, 2), floats(cols, 1), 1e-12f, onnxRuntime);
                GraphBuilder f = new GraphBuilder("fused");
                f.input("x", t);
                f.input("r", t);
                Graph fused = f.output(f.add1("ln", norm, "x", "r")).build();
                GraphBuilder u = new GraphBuilder("unfused");
                u.input("x", t);
                u.input("r", t);
                Graph unfused = u.output(u.add1("ln", norm, u.add1("sum", new dev.offload.graph.Add(), "x", "r"))).build();
                Map<String, HostTensor> in = Map.of("x", HostTensor.of(t, floats(14 * cols, 3)), "r", HostTensor.of(t, floats(14 * cols, 3)));
                String what = (onnxRuntime ? "layer_norm_onnx" : "layer_norm") + " of x + residual, cols " + cols;
                for (String device : new String[] {"java", "cl:cpu"}) {
                    assertSameBits(GraphFixtures.run(unfused, CL.pool(), device, in).output("ln").floats(),
                            GraphFixtures.run(fused, CL.pool(), device, in).output("ln").floats(), what + " on " + device + ", unfused vs fused");
                }
                if (onnxRuntime) assertIdentical(fused, in, what);
            }
        }
    }

    private static void assertSameBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) throw new AssertionError(what + ": element " + i + " is " + got[i] + ", not " + want[i]);
        }
    }

    @Test
    void attentionInOnnxRuntimeFormIsBitIdenticalWithGqaKeyLengthsAndOddHeadSizes() {
        int batch = 3, heads = 4, kvHeads = 2;
        for (int d : new int[] {8, 24, 32, 40}) {
            for (int s : new int[] {1, 17, 50}) {
                TensorType q = TensorType.of(DType.FLOAT32, batch, s, heads * d), kv = TensorType.of(DType.FLOAT32, batch, s, kvHeads * d);
                GraphBuilder b = new GraphBuilder("attention");
                b.input("q", q);
                b.input("k", kv);
                b.input("v", kv);
                b.input("len", TensorType.of(DType.INT32, batch));
                Attention op = new Attention(heads, kvHeads, d, false, (float) (1 / Math.sqrt(d)), (float) Math.sqrt(d));
                Graph g = b.output(b.add1("attn", op, "q", "k", "v", "len")).build();
                Map<String, HostTensor> in = new LinkedHashMap<>();
                in.put("q", HostTensor.of(q, floats((int) q.elements(), 2)));
                in.put("k", HostTensor.of(kv, floats((int) kv.elements(), 2)));
                in.put("v", HostTensor.of(kv, floats((int) kv.elements(), 2)));
                in.put("len", HostTensor.of(TensorType.of(DType.INT32, batch), new int[] {s, 0, Math.max(1, s / 2 + 1)}));
                assertIdentical(g, in, "attention_onnx D " + d + " S " + s);
            }
        }
    }

    @Test
    void int8LinearWithOnnxRuntimeGeluEpilogueIsBitIdentical() {
        int rows = 5, k = 37, n = 45;   // 45 columns: two 16-column stores and a tail stored one by one
        byte[] w = new byte[k * n];
        for (int i = 0; i < w.length; i++) w[i] = (byte) random.nextInt(-127, 128);
        TensorType x = TensorType.of(DType.FLOAT32, rows, k);
        GraphBuilder b = new GraphBuilder("linear");
        b.input("x", x);
        List<String> q = b.add("q", new DynamicQuantize(DynamicQuantize.Mode.PER_TENSOR_UINT8), "x");
        Graph g = b.output(b.add1("linear", new Int8Linear(k, n, w, floats(n, 0.01), null, floats(n, 1), Activation.GELU_ERF_ONNX),
                q.toArray(String[]::new))).build();
        assertIdentical(g, Map.of("x", HostTensor.of(x, floats(rows * k, 4))), "int8 linear with GELU_ERF_ONNX");
    }
}
