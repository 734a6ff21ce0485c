package dev.offload.ops.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.offload.device.OpenClDevice;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.LayerNormQuantize;
import dev.offload.graph.TensorType;
import dev.offload.ops.quant.Quantize;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.tensor.DType;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused {@link LayerNormQuantize} node gives exactly what the unfused pair (a {@link LayerNorm} node, then a
 * per-sentence {@link DynamicQuantize}) gives, output for output and bit for bit, on java and on OpenCL; in one
 * launch (small sentences, or as many sentences as cores) and in the norm's and quantize's own launches (one big
 * sentence). With ONNX Runtime's rounding the two backends also agree bit for bit.
 */
class LayerNormQuantizeTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static Graph graph(boolean fused, LayerNorm norm, TensorType t, boolean residual) {
        GraphBuilder b = new GraphBuilder(fused ? "fused" : "unfused");
        String x = b.input("x", t);
        List<String> in = new ArrayList<>(List.of(x));
        if (residual) in.add(b.input("r", t));
        String lengths = b.input("lengths", TensorType.of(DType.INT32, t.dim(0)));
        List<String> outs = new ArrayList<>();
        if (fused) {
            in.add(lengths);
            outs.addAll(b.add("norm", new LayerNormQuantize(norm), in.toArray(String[]::new)));
        } else {
            String y = b.add1("norm", norm, in.toArray(String[]::new));
            outs.add(y);
            outs.addAll(b.add("quantize", new DynamicQuantize(DynamicQuantize.Mode.PER_SENTENCE_UINT8), y, lengths));
        }
        for (String o : outs) b.output(o);
        return b.build();
    }

    /** [y bits..., q..., scale bits..., zero points...] of a run's four outputs. */
    private static int[] flat(Graph g, GraphRuntime.Result r) {
        float[] y = r.output(g.outputs().get(0).name()).floats(), s = r.output(g.outputs().get(2).name()).floats();
        byte[] q = r.output(g.outputs().get(1).name()).bytes();
        int[] z = r.output(g.outputs().get(3).name()).ints();
        int[] f = new int[y.length + q.length + s.length + z.length];
        int at = 0;
        for (float v : y) f[at++] = Float.floatToIntBits(v);
        for (byte v : q) f[at++] = v & 0xFF;
        for (float v : s) f[at++] = Float.floatToIntBits(v);
        for (int v : z) f[at++] = v;
        return f;
    }

    @ParameterizedTest(name = "{0}x{1}x{2} onnx={3} residual={4}, one launch: {5}")
    @CsvSource({
            "1, 128, 384, true, true, true",     // MiniLM / bge at batch 1
            "3, 7, 37, true, false, true",        // odd widths: the 16-lane loops' tails
            "2, 16, 48, false, true, true",       // offload's own rounding
            "1, 300, 250, true, true, false",     // one sentence of 75000 values: the norm's and quantize's own launches
            "1, 300, 250, false, false, false"})
    void fusedIsExactlyTheUnfusedPair(int batch, int seq, int cols, boolean onnx, boolean residual, boolean oneLaunch) {
        TensorType t = TensorType.of(DType.FLOAT32, batch, seq, cols);
        OpenClDevice cl = CL.device();
        // A one-core device runs even one big sentence in one launch: the staged case is then the one-launch case again.
        assumeTrue(oneLaunch == new Quantize(cl).inOneLaunch(new Quantize.Groups(batch, seq, cols, null)), "the path this case is for");
        SplittableRandom rnd = new SplittableRandom(11L * batch + seq + 31L * cols);
        float[] x = new float[batch * seq * cols], r = new float[x.length], gamma = new float[cols], beta = new float[cols];
        for (int i = 0; i < x.length; i++) { x[i] = (float) rnd.nextDouble(-4, 4); r[i] = (float) rnd.nextDouble(-1, 1); }
        for (int i = 0; i < cols; i++) { gamma[i] = (float) rnd.nextDouble(-2, 2); beta[i] = (float) rnd.nextDouble(-1, 1); }
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) lengths[b] = b == 1 ? 0 : seq - 2 - b;   // short sentences, and one 0 (all rows)
        Map<String, HostTensor> in = new HashMap<>(Map.of("x", HostTensor.of(t, x), "lengths", HostTensor.of(TensorType.of(DType.INT32, batch), lengths)));
        if (residual) in.put("r", HostTensor.of(t, r));
        LayerNorm norm = new LayerNorm(gamma, beta, 1e-12f, onnx);
        Graph fused = graph(true, norm, t, residual), unfused = graph(false, norm, t, residual);
        int[] javaFused = flat(fused, GraphFixtures.run(fused, CL.pool(), "java", in));
        int[] clFused = flat(fused, GraphFixtures.run(fused, CL.pool(), "cl:cpu", in));
        assertArrayEquals(flat(unfused, GraphFixtures.run(unfused, CL.pool(), "java", in)), javaFused, "java: fused != unfused");
        assertArrayEquals(flat(unfused, GraphFixtures.run(unfused, CL.pool(), "cl:cpu", in)), clFused, "OpenCL: fused != unfused");
        if (onnx) assertArrayEquals(javaFused, clFused, "ONNX Runtime's rounding: OpenCL != java");
    }
}
