package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.graph.Add;
import dev.offload.graph.Attention;
import dev.offload.graph.Dequantize;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.Embedding;
import dev.offload.graph.Gelu;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.MeanPool;
import dev.offload.graph.RmsNorm;
import dev.offload.graph.SiluGate;
import dev.offload.graph.SparseFormat;
import dev.offload.graph.SparseLinear;
import dev.offload.graph.TensorType;
import dev.offload.ops.gemm.Activation;
import dev.offload.tensor.DType;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.NonFinite;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every op kind of the graph on OpenCL keeps NaN and infinities where its java implementation (the reference) does:
 * NaN, +inf and -inf are injected into inputs and weights, and every output element must be of the same kind
 * (NaN, +inf, -inf, finite) on both, finite ones within 1e-4. Before this, fused attention turned a NaN query row into
 * zeros, the quantize kernels skipped NaN (fmin/fmax) and quantized around it, ReLU made NaN 0, and the tanh GELU
 * gave -inf at -inf.
 */
class NonFiniteGraphTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();
    private static final double TOLERANCE = 1e-4;
    private static final int ROWS = 4, COLS = 16;
    private static final TensorType X = TensorType.of(DType.FLOAT32, ROWS, COLS);

    private static GraphRuntime.Result run(Graph g, String placement, Map<String, HostTensor> in) {
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse(placement), CL.pool()), OpImplementations.defaults(), true)) {
            rt.allocations().poisonNewBuffers(true);   // an unwritten element reads as the poison pattern, never as a NaN result
            return rt.run(in);
        }
    }

    /** Runs the graph on java and on OpenCL (strict: no fallback) and compares every output; returns the java result. */
    private static GraphRuntime.Result assertAgree(String what, Graph g, Map<String, HostTensor> in) {
        GraphRuntime.Result want = run(g, "java", in), got = run(g, "cl:cpu", in);
        for (var e : want.outputs().entrySet()) {
            HostTensor w = e.getValue(), c = got.output(e.getKey());
            String name = what + " " + e.getKey();
            switch (w.data()) {
                case float[] f -> NonFinite.assertAgree(name, f, c.floats(), TOLERANCE);
                case byte[] b -> NonFinite.assertAgree(name, b, c.bytes());
                case int[] i -> assertEquals(java.util.Arrays.toString(i), java.util.Arrays.toString(c.ints()), name);
                default -> throw new AssertionError(w.data().getClass());
            }
        }
        return want;
    }

    private static float[] normal(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    /** x [ROWS, COLS] with the special value in rows 0 and 2, y [ROWS, COLS] finite. */
    private static Map<String, HostTensor> inputs(float special, Random r) {
        float[] x = normal(r, ROWS * COLS);
        x[3] = special;
        x[2 * COLS + 11] = special;
        Map<String, HostTensor> in = new LinkedHashMap<>();
        in.put("x", HostTensor.of(X, x));
        in.put("y", HostTensor.of(X, normal(r, ROWS * COLS)));
        return in;
    }

    /** A graph over x and y whose body {@code build} adds (it declares its outputs). */
    private static Graph graph(Consumer<GraphBuilder> build) {
        GraphBuilder b = new GraphBuilder("non-finite");
        b.input("x", X);
        b.input("y", X);
        build.accept(b);
        return b.build();
    }

    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void elementwiseAndNormalizationOps(float special) {
        Random r = new Random(1);
        var in = inputs(special, r);
        assertAgree(special + " add", graph(b -> b.output(b.add1("add", new Add(), "x", "y"))), in);
        assertAgree(special + " silu_gate", graph(b -> b.output(b.add1("silu", new SiluGate(), "x", "y"))), in);
        for (boolean tanh : new boolean[] {false, true}) {
            assertAgree(special + " gelu tanh=" + tanh, graph(b -> b.output(b.add1("gelu", new Gelu(tanh), "x"))), in);
        }
        for (boolean onnx : new boolean[] {false, true}) {
            float[] gamma = normal(r, COLS), beta = normal(r, COLS);
            GraphRuntime.Result ref = assertAgree(special + " layer_norm onnx=" + onnx,
                    graph(b -> b.output(b.add1("ln", new LayerNorm(gamma, beta, 1e-5f, onnx), "x"))), in);
            float[] y = ref.outputs().values().iterator().next().floats();
            assertEquals(2 * COLS, NonFinite.count(y, "NaN"), "a row holding NaN or an infinity normalizes to NaN, the others stay finite");
            // The fused residual form normalizes x + y: a special in x reaches its rows the same way.
            GraphRuntime.Result fused = assertAgree(special + " layer_norm(x + y) onnx=" + onnx,
                    graph(b -> b.output(b.add1("ln", new LayerNorm(gamma, beta, 1e-5f, onnx), "x", "y"))), in);
            assertEquals(2 * COLS, NonFinite.count(fused.outputs().values().iterator().next().floats(), "NaN"));
        }
        float[] gamma = normal(r, COLS);
        assertAgree(special + " rms_norm", graph(b -> b.output(b.add1("rms", new RmsNorm(gamma, 1e-5f), "x"))), in);
    }

    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void quantizeAndTheLinearLayersFollowTheDocumentedRule(float special) {
        Random r = new Random(2);
        var in = inputs(special, r);
        byte[] w = new byte[COLS * 8];
        r.nextBytes(w);
        byte[] sparse = w.clone();
        for (int i = 0; i < sparse.length; i += 2) sparse[i] = 0;
        float[] scales = {.1f, .2f, .3f, .1f, .2f, .3f, .1f, .2f}, bias = normal(r, 8);
        for (DynamicQuantize.Mode mode : new DynamicQuantize.Mode[] {DynamicQuantize.Mode.PER_TENSOR_UINT8, DynamicQuantize.Mode.PER_ROW_INT8}) {
            for (Activation act : Activation.values()) {
                GraphRuntime.Result ref = assertAgree(special + " quantize " + mode + " + linear " + act, graph(b -> {
                    List<String> q = b.add("q", new DynamicQuantize(mode), "x");
                    q.forEach(b::output);
                    b.output(b.add1("dq", new Dequantize(), q.get(0), q.get(1), q.get(2)));
                    b.output(b.add1("lin", new Int8Linear(COLS, 8, w, scales, null, bias, act), q.get(0), q.get(1), q.get(2)));
                    if (act != Activation.GELU_ERF_ONNX) {   // imported models' GELU is for dense linears only
                        b.output(b.add1("sparse", new SparseLinear(COLS, 8, sparse, scales, bias, act, SparseFormat.parse("csr")),
                                q.get(0), q.get(1), q.get(2)));
                    }
                }), in);
                // The rule: a group holding a value that is not finite has scale NaN, zero point 0, data 0.
                float[] groupScales = ref.output("q.1").floats();
                int[] zeroPoints = ref.output("q.2").ints();
                byte[] data = ref.output("q.0").bytes();
                for (int g = 0; g < groupScales.length; g++) {
                    boolean bad = mode == DynamicQuantize.Mode.PER_TENSOR_UINT8 || g == 0 || g == 2;
                    assertEquals(bad, Float.isNaN(groupScales[g]), mode + " group " + g + " scale " + groupScales[g]);
                    if (bad) {
                        assertEquals(0, zeroPoints[g]);
                        int rows = mode == DynamicQuantize.Mode.PER_TENSOR_UINT8 ? ROWS : 1;
                        for (int i = 0; i < rows * COLS; i++) assertEquals(0, data[g * COLS + i], "quantized to 0");
                    }
                }
            }
        }
        // Per sentence: sentence 0 counts both its rows, sentence 1 only its first; the second is padding.
        TensorType x3 = TensorType.of(DType.FLOAT32, 2, 2, COLS), lengths = TensorType.of(DType.INT32, 2);
        float[] sentences = normal(r, 4 * COLS);
        sentences[5] = special;               // sentence 0, token 0: counted
        sentences[3 * COLS + 7] = special;    // sentence 1, token 1: padding (its length is 1)
        Map<String, HostTensor> in3 = Map.of("x", HostTensor.of(x3, sentences), "len", HostTensor.of(lengths, new int[] {2, 1}));
        GraphBuilder b = new GraphBuilder("per-sentence");
        b.input("x", x3);
        b.input("len", lengths);
        b.add("q", new DynamicQuantize(DynamicQuantize.Mode.PER_SENTENCE_UINT8), "x", "len").forEach(b::output);
        b.output(b.add1("pool", new MeanPool(), "x", "len"));
        GraphRuntime.Result ref = assertAgree(special + " per-sentence quantize and mean pool", b.build(), in3);
        float[] sentenceScales = ref.output("q.1").floats();
        assertTrue(Float.isNaN(sentenceScales[0]) && Float.isNaN(sentenceScales[1]), "sentence 0 holds the value in its counted rows");
        assertTrue(Float.isFinite(sentenceScales[2]), "sentence 1 counts only its first row; the value in its padding row does not count");
    }

    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void embeddingTables(float special) {
        Random r = new Random(3);
        float[] table = normal(r, 10 * COLS);
        table[3 * COLS + 2] = special;
        TensorType ids = TensorType.of(DType.INT32, 1, 4);
        GraphBuilder b = new GraphBuilder("embedding");
        b.input("ids", ids);
        b.output(b.add1("e", Embedding.ofFloat(table, 10, COLS, Embedding.Index.TOKEN), "ids"));
        assertAgree(special + " embedding", b.build(), Map.of("ids", HostTensor.of(ids, new int[] {3, 1, 3, 9})));
    }

    /** q, k, v [1, S, 2 heads x 16]: the special value in a query row, a key, or a value, for every attention form. */
    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void attentionInEveryForm(float special) {
        Random r = new Random(4);
        int h = 2, d = 16;
        for (int s : new int[] {5, 20}) {   // one row per work-item, and 16 query rows per work-item
            TensorType t = TensorType.of(DType.FLOAT32, 1, s, h * d);
            for (char where : new char[] {'q', 'k', 'v'}) {
                float[] q = normal(r, s * h * d), k = normal(r, s * h * d), v = normal(r, s * h * d);
                int row = 1, at = row * h * d + 3;   // token 1, head 0, element 3
                switch (where) {
                    case 'q' -> q[at] = special;
                    case 'k' -> k[at] = special;
                    default -> v[at] = special;
                }
                Map<String, HostTensor> in = Map.of("q", HostTensor.of(t, q), "k", HostTensor.of(t, k), "v", HostTensor.of(t, v));
                for (Attention op : List.of(Attention.of(h, h, d, false), Attention.of(h, h, d, true), Attention.onnxRuntime(h, d, 4f))) {
                    GraphBuilder b = new GraphBuilder("attention");
                    b.input("q", t);
                    b.input("k", t);
                    b.input("v", t);
                    b.output(b.add1("a", op, "q", "k", "v"));
                    GraphRuntime.Result ref = assertAgree(special + " " + op.describe() + " S=" + s + " special in " + where, b.build(), in);
                    if (where == 'q' && Float.isNaN(special)) {
                        float[] o = ref.output("a").floats();
                        for (int c = 0; c < d; c++) assertTrue(Float.isNaN(o[row * h * d + c]), "a NaN query row gives NaN (issue 13, point 4)");
                        assertTrue(Float.isFinite(o[row * h * d + d]), "the other head of that token stays finite");
                    }
                }
            }
        }
    }
}
