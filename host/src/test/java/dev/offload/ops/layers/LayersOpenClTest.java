package dev.offload.ops.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.graph.Add;
import dev.offload.graph.Dequantize;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.Embedding;
import dev.offload.graph.Gelu;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.LastToken;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.MeanPool;
import dev.offload.graph.Op;
import dev.offload.graph.RmsNorm;
import dev.offload.graph.RotaryEmbedding;
import dev.offload.graph.SiluGate;
import dev.offload.graph.TensorType;
import dev.offload.ops.gemm.Activation;
import dev.offload.runtime.HostTensor;
import dev.offload.tensor.DType;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Each layers.cl kernel against its java reference ({@link LayersJava}), through a one-node graph with poisoned
 * outputs; and the graph's quantize -> dequantize round trip (quantize.cl) that the layers read back.
 *
 * <p>Tolerances (normwise relative, max|got-want| / max|want|): the reference sums in double, the kernels in
 * float32 over 16 lanes, so norms differ by the float rounding of sums of up to 1000 terms (~1e-6 seen; bound 2e-5);
 * element-wise ops by a few float ulps of exp/erf/tanh (OpenCL allows up to 4 ulp for exp, 16 for erf: bound 1e-5);
 * dequantize and embeddings are the same float operations in the same order: exact (bound 0).
 */
class LayersOpenClTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private final SplittableRandom random = new SplittableRandom(42);

    private float[] floats(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        return a;
    }

    /** Runs a single op on java and on the OpenCL device with random float inputs of the given shapes. */
    private double compare(Op op, TensorType... inputs) {
        GraphBuilder b = new GraphBuilder("one-op");
        Map<String, HostTensor> in = new LinkedHashMap<>();
        String[] names = new String[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            names[i] = "x" + i;
            b.input(names[i], inputs[i]);
            in.put(names[i], random(inputs[i]));
        }
        String out = b.add1("op", op, names);
        Graph g = b.output(out).build();
        return GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", in), GraphFixtures.run(g, CL.pool(), "cl:cpu", in));
    }

    private HostTensor random(TensorType t) {
        int n = (int) t.elements();
        return switch (t.dtype()) {
            case FLOAT32 -> HostTensor.of(t, floats(n, 3));
            case INT32 -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) v[i] = random.nextInt(0, 50);
                yield HostTensor.of(t, v);
            }
            default -> {
                byte[] v = new byte[n];
                for (int i = 0; i < n; i++) v[i] = (byte) random.nextInt(-128, 128);
                yield HostTensor.of(t, v);
            }
        };
    }

    @Test
    void layerNormMatchesReferenceForRowWidthsAroundTheVectorWidth() {
        for (int cols : new int[] {1, 15, 16, 17, 61, 768}) {
            double e = compare(new LayerNorm(floats(cols, 2), floats(cols, 1), 1e-5f), TensorType.of(DType.FLOAT32, 3, 7, cols));
            assertTrue(e <= 2e-5, "layer_norm cols=" + cols + " error " + e);
        }
        double noBeta = compare(new LayerNorm(floats(33, 2), null, 1e-12f), TensorType.of(DType.FLOAT32, 5, 33));
        assertTrue(noBeta <= 2e-5, "layer_norm without beta error " + noBeta);
    }

    @Test
    void layerNormOfXPlusResidualMatchesReference() {
        for (int cols : new int[] {1, 17, 384}) {
            TensorType t = TensorType.of(DType.FLOAT32, 3, 5, cols);
            double e = compare(new LayerNorm(floats(cols, 2), floats(cols, 1), 1e-5f), t, t);
            assertTrue(e <= 2e-5, "layer_norm of x + residual cols=" + cols + " error " + e);
        }
    }

    @Test
    void rmsNormMatchesReference() {
        for (int cols : new int[] {1, 17, 64, 1001}) {
            double e = compare(new RmsNorm(floats(cols, 2), 1e-5f), TensorType.of(DType.FLOAT32, 13, cols));
            assertTrue(e <= 2e-5, "rms_norm cols=" + cols + " error " + e);
        }
    }

    @Test
    void rmsNormWithAGammaOneHeadWideNormsEachHeadOnItsOwn() {
        // Qwen3's Q/K norm: 4 heads of 32 in a row of 128, one gamma of 32 for all of them.
        int heads = 4, d = 32, rows = 7;
        float[] gamma = floats(d, 2), x = floats(rows * heads * d, 3);
        TensorType t = TensorType.of(DType.FLOAT32, 1, rows, heads * d);
        GraphBuilder b = new GraphBuilder("head-norm");
        b.input("x", t);
        String y = b.add1("y", new RmsNorm(gamma, 1e-6f), "x");
        Graph g = b.output(y).build();
        Map<String, HostTensor> in = Map.of("x", HostTensor.of(t, x));
        float[] onJava = GraphFixtures.run(g, CL.pool(), "java", in).output(y).floats();
        for (int r = 0; r < rows * heads; r++) {   // each head's 32 values, normed by their own mean square
            double ss = 0;
            for (int c = 0; c < d; c++) ss += (double) x[r * d + c] * x[r * d + c];
            double inv = 1 / Math.sqrt(ss / d + 1e-6);
            for (int c = 0; c < d; c++) {
                assertEquals(x[r * d + c] * inv * gamma[c], onJava[r * d + c], 1e-6 * Math.abs(x[r * d + c] * inv * gamma[c]) + 1e-7, "head row " + r + " value " + c);
            }
        }
        double e = GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", in), GraphFixtures.run(g, CL.pool(), "cl:cpu", in));
        assertTrue(e <= 2e-5, "per-head rms_norm on OpenCL against java: " + e);
        assertThrows(IllegalArgumentException.class, () -> new RmsNorm(floats(48, 2), 1e-6f).outputTypes(java.util.List.of(t)),
                "a gamma that does not divide the row is refused where the graph is built");
    }

    @Test
    void elementwiseOpsMatchReference() {
        TensorType t = TensorType.of(DType.FLOAT32, 3, 5, 37);
        assertTrue(compare(new Add(), t, t) <= 1e-7, "add");
        assertTrue(compare(new SiluGate(), t, t) <= 1e-5, "silu_gate");
        assertEquals(0, compare(new Gelu(false), t), "gelu erf: the same float operations on both sides (Activation.geluErf)");
        assertTrue(compare(new Gelu(true), t) <= 1e-5, "gelu tanh");
    }

    @Test
    void ropeGivesTheReferenceBitsInBothLayouts() {
        // Same float products and sums on both sides (the kernel turns contraction off): exact.
        for (RotaryEmbedding.Style style : RotaryEmbedding.Style.values()) {
            RotaryEmbedding rope = RotaryEmbedding.of(3, 64, style, 10000f, 50);   // positions drawn from 0..49
            assertEquals(0.0, compare(rope, TensorType.of(DType.FLOAT32, 2, 7, 3 * 64), TensorType.of(DType.INT32, 2, 7)), style.toString());
        }
    }

    @Test
    void lastTokenCopiesEachSequencesLastRow() {
        assertEquals(0.0, compare(new LastToken(), TensorType.of(DType.FLOAT32, 3, 5, 37)));
        assertEquals(0.0, compare(new LastToken(), TensorType.of(DType.FLOAT32, 1, 1, 16)));
    }

    /** Every piece of offload's erf and the boundaries between them: the layers kernel gives Java's bits. */
    @Test
    void geluErfIsBitExactWithJavaAcrossEveryPieceOfErf() {
        float[] x = new float[4096];
        for (int i = 0; i < x.length; i++) x[i] = (i - 2048) * (8f / 2048);   // [-8, 8) in steps of 1/256
        float[] edges = {1f, 1.6f, 2.3f, 3.92f};
        for (int e = 0; e < edges.length; e++) {
            float r = edges[e] * 1.41421356f;                                   // GELU scales by 1/sqrt 2 first
            x[8 * e] = Math.nextDown(r); x[8 * e + 1] = r; x[8 * e + 2] = Math.nextUp(r); x[8 * e + 3] = -r;
        }
        TensorType t = TensorType.of(DType.FLOAT32, 64, 64);
        GraphBuilder b = new GraphBuilder("gelu");
        b.input("x", t);
        Graph g = b.output(b.add1("gelu", new Gelu(false), "x")).build();
        Map<String, HostTensor> in = Map.of("x", HostTensor.of(t, x));
        float[] cl = GraphFixtures.run(g, CL.pool(), "cl:cpu", in).output("gelu").floats();
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(Activation.geluErf(x[i])), Float.floatToIntBits(cl[i]), "gelu(" + x[i] + ")");
        }
    }

    @Test
    void dequantizeIsExactForPerTensorUint8AndPerRowInt8() {
        TensorType f = TensorType.of(DType.FLOAT32, 7, 19);
        for (DynamicQuantize.Mode mode : new DynamicQuantize.Mode[] {DynamicQuantize.Mode.PER_TENSOR_UINT8, DynamicQuantize.Mode.PER_ROW_INT8}) {
            GraphBuilder b = new GraphBuilder("dq");
            String x = b.input("x", f);
            String[] q = b.add("q", new DynamicQuantize(mode), x).toArray(String[]::new);
            String y = b.add1("dq", new Dequantize(), q);
            Graph g = b.output(y).build();
            Map<String, HostTensor> in = Map.of("x", HostTensor.of(f, floats(7 * 19, 5)));
            // quantize runs on java on both sides (no OpenCL kernel of ours): dequantize alone is compared.
            double e = GraphFixtures.maxError(GraphFixtures.run(g, CL.pool(), "java", in), GraphFixtures.run(g, CL.pool(), "quantize=java,*=cl:cpu", in));
            assertTrue(e == 0, mode + " dequantize error " + e);
        }
    }

    @Test
    void embeddingsAndMeanPoolMatchReference() {
        TensorType ids = TensorType.of(DType.INT32, 2, 9);
        assertTrue(compare(Embedding.ofFloat(floats(50 * 21, 1), 50, 21, Embedding.Index.TOKEN), ids) == 0, "float token embedding");
        assertTrue(compare(Embedding.ofFloat(floats(50 * 21, 1), 50, 21, Embedding.Index.POSITION), ids) == 0, "position embedding");
        byte[] table = new byte[50 * 33];
        for (int i = 0; i < table.length; i++) table[i] = (byte) random.nextInt(-127, 128);
        assertTrue(compare(Embedding.ofInt8(table, floats(50, 0.1), 50, 33, Embedding.Index.TOKEN), ids) == 0, "int8 embedding");
        TensorType x = TensorType.of(DType.FLOAT32, 3, 11, 23);
        assertTrue(compare(new MeanPool(), x) <= 1e-6, "mean pool");
        assertTrue(compare(new MeanPool(), x, TensorType.of(DType.INT32, 3)) <= 1e-6, "mean pool with lengths");
    }
}
