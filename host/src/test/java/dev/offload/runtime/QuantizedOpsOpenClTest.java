package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.Op;
import dev.offload.graph.SparseFormat;
import dev.offload.graph.SparseLinear;
import dev.offload.graph.TensorType;
import dev.offload.ops.gemm.Activation;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.tensor.DType;
import dev.offload.testing.GraphFixtures;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The graph's quantize, linear and sparse_linear on OpenCL against the java reference of the same op. */
class QuantizedOpsOpenClTest {
    static OpenClDevice device;
    static DevicePool pool;
    private final SplittableRandom random = new SplittableRandom(11);

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        pool = DevicePool.of(device);
    }

    @AfterAll
    static void close() { device.close(); }

    private float[] floats(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        return a;
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) random.nextInt(-128, 128);
        return b;
    }

    private static GraphRuntime.Result run(Graph g, String placement, Map<String, HostTensor> in) {
        return GraphFixtures.run(g, pool, placement, in);
    }

    @Test
    void quantizeOnOpenClIsBitExactInEveryMode() {
        int batch = 3, seq = 13;
        TensorType lengths = TensorType.of(DType.INT32, batch);
        for (DynamicQuantize.Mode mode : DynamicQuantize.Mode.values()) {
            int cols = mode == DynamicQuantize.Mode.PER_BLOCK_INT8 ? 96 : 37;   // per block: whole blocks of 32
            TensorType x = TensorType.of(DType.FLOAT32, batch, seq, cols);
            GraphBuilder b = new GraphBuilder("q");
            String xi = b.input("x", x);
            boolean sentences = mode == DynamicQuantize.Mode.PER_SENTENCE_UINT8;
            String[] ins = sentences ? new String[] {xi, b.input("lengths", lengths)} : new String[] {xi};
            var outs = b.add("q", new DynamicQuantize(mode), ins);
            outs.forEach(b::output);
            Graph g = b.build();
            Map<String, HostTensor> in = new LinkedHashMap<>();
            float[] data = floats(batch * seq * cols, 3);
            // Sentence 1's padding holds the largest values: they must not widen its range.
            for (int i = (seq + 5) * cols; i < 2 * seq * cols; i++) data[i] *= 50;
            in.put("x", HostTensor.of(x, data));
            if (sentences) in.put("lengths", HostTensor.of(lengths, new int[] {seq, 5, 0}));
            GraphRuntime.Result want = run(g, "java", in), got = run(g, "cl:cpu", in);
            assertArrayEquals(want.output("q.0").bytes(), got.output("q.0").bytes(), mode + " data");
            assertArrayEquals(want.output("q.1").floats(), got.output("q.1").floats(), mode + " scales");
            assertArrayEquals(want.output("q.2").ints(), got.output("q.2").ints(), mode + " zero points");
            if (sentences) {
                float[] s = got.output("q.1").floats();
                assertTrue(s[seq] < s[0] * 5, "the padded rows of sentence 1 must not set its range");
                assertEquals(s[seq], s[2 * seq - 1], "one scale per sentence, repeated on its rows");
            }
        }
    }

    /** A graph taking the quantized triple as inputs and applying one linear op to it. */
    private static Graph linearGraph(Op op, TensorType q, TensorType params) {
        GraphBuilder b = new GraphBuilder("linear");
        String y = b.add1("y", op, b.input("q", q), b.input("s", params), b.input("z", TensorType.of(DType.INT32, params.dim(0))));
        return b.output(y).build();
    }

    private Map<String, HostTensor> triple(TensorType q, boolean perRow, float scale) {
        int groups = perRow ? q.rows() : 1;
        float[] s = new float[groups];
        int[] z = new int[groups];
        for (int i = 0; i < groups; i++) {
            s[i] = scale == 0 ? (float) (0.01 + random.nextDouble() * 0.05) : scale;
            z[i] = q.dtype() == DType.UINT8 ? random.nextInt(0, 256) : 0;
        }
        return Map.of("q", HostTensor.of(q, bytes((int) q.elements())), "s", HostTensor.of(TensorType.of(DType.FLOAT32, groups), s),
                "z", HostTensor.of(TensorType.of(DType.INT32, groups), z));
    }

    @Test
    void int8LinearAccumulatorsAreBitExactWithInt8GemmReference() {
        // Scales 1, no bias, no activation: the float output is the int32 accumulator, exact below 2^24.
        int rows = 7, k = 131, n = 45;
        for (DType aType : new DType[] {DType.UINT8, DType.INT8}) {
            for (boolean perRow : new boolean[] {false, true}) {
                TensorType q = TensorType.of(aType, rows, k);
                byte[] w = bytes(k * n), zw = bytes(n);
                float[] ones = new float[n];
                java.util.Arrays.fill(ones, 1f);
                Map<String, HostTensor> in = triple(q, perRow, 1f);
                Graph g = linearGraph(new Int8Linear(k, n, w, ones, zw, null, Activation.NONE), q, in.get("s").type());
                int[] acc = Int8GemmReference.accumulate(in.get("q").bytes(), aType == DType.UINT8, in.get("z").ints(),
                        Int8GemmReference.widen(w, zw, n), rows, k, n);
                float[] got = run(g, "cl:cpu", in).output("y").floats();
                for (int i = 0; i < acc.length; i++) assertEquals(acc[i], (int) got[i], aType + " perRow=" + perRow + " element " + i);
            }
        }
    }

    @Test
    void int8LinearEpilogueWithBiasAndGeluMatchesJava() {
        int rows = 9, k = 64, n = 33;
        TensorType q = TensorType.of(DType.UINT8, rows, k);
        Map<String, HostTensor> in = triple(q, true, 0);
        Graph g = linearGraph(new Int8Linear(k, n, bytes(k * n), floats(n, 0.01), null, floats(n, 1), Activation.GELU_ERF), q, in.get("s").type());
        double e = GraphFixtures.maxError(run(g, "java", in), run(g, "cl:cpu", in));
        assertTrue(e <= 1e-6, "linear + gelu error " + e);
    }

    @Test
    void sparseLinearMatchesTheDenseReferenceInCsrTwoFourAndBsr() {
        int rows = 6, k = 50, n = 29;
        for (SparseFormat format : new SparseFormat[] {SparseFormat.CSR, SparseFormat.TWO_FOUR, SparseFormat.parse("bsr:16x4")}) {
            byte[] w = bytes(k * n);
            for (int kk = 0; kk < k; kk++) {
                for (int j = 0; j < n; j++) {
                    // 2:4 along K: keep positions 0 and 2 of each group of 4; CSR: drop about 70%.
                    // BSR: whole 16-channel x 4-k blocks of W^T, about half of them.
                    boolean keep = format == SparseFormat.TWO_FOUR ? kk % 4 == 0 || kk % 4 == 2
                            : format.kind() == SparseFormat.Kind.BSR ? ((kk / 4) * 7 + (j / 16) * 3) % 2 == 0 : random.nextDouble() < 0.3;
                    if (!keep) w[kk * n + j] = 0;
                }
            }
            TensorType q = TensorType.of(DType.UINT8, rows, k);
            Map<String, HostTensor> exact = triple(q, true, 1f);
            float[] ones = new float[n];
            java.util.Arrays.fill(ones, 1f);
            Graph g = linearGraph(new SparseLinear(k, n, w, ones, null, Activation.NONE, format), q, exact.get("s").type());
            int[] acc = Int8GemmReference.accumulate(exact.get("q").bytes(), true, exact.get("z").ints(), Int8GemmReference.widen(w, (byte[]) null, n), rows, k, n);
            float[] got = run(g, "cl:cpu", exact).output("y").floats();
            for (int i = 0; i < acc.length; i++) assertEquals(acc[i], (int) got[i], format + " element " + i);

            Map<String, HostTensor> in = triple(q, false, 0);
            Graph withEpilogue = linearGraph(new SparseLinear(k, n, w, floats(n, 0.02), floats(n, 1), Activation.GELU_ERF, format), q, in.get("s").type());
            double e = GraphFixtures.maxError(run(withEpilogue, "java", in), run(withEpilogue, "cl:cpu", in));
            assertTrue(format.kind() == SparseFormat.Kind.BSR ? e == 0 : e <= 1e-6, format + " sparse linear + gelu error " + e);
        }
    }
}
