package dev.offload.ops.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.Int8LinearGroup;
import dev.offload.graph.TensorType;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.tensor.DType;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * An {@link Int8LinearGroup} node gives, output for output, exactly the bits of its parts as separate
 * {@link Int8Linear} nodes, on java and on OpenCL (one launch where the device's GEMM has the group form, the VNNI
 * panels; else a launch per part), and the two backends agree bit for bit. Awkward shapes: K with a tail past the
 * last group of 4, widths that are not multiples of the register block, zero points on some parts only.
 */
class Int8LinearGroupTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static Int8Linear linear(SplittableRandom rnd, int k, int n, boolean zeroPoints, boolean bias, Activation act) {
        byte[] w = new byte[k * n];
        rnd.nextBytes(w);
        float[] s = new float[n], b = new float[n];
        byte[] z = new byte[n];
        for (int j = 0; j < n; j++) {
            s[j] = (float) rnd.nextDouble(1e-3, 3e-3);
            b[j] = (float) rnd.nextDouble(-1, 1);
            z[j] = (byte) rnd.nextInt(-20, 20);
        }
        return new Int8Linear(k, n, w, s, zeroPoints ? z : null, bias ? b : null, act);
    }

    private static Graph graph(List<Int8Linear> parts, boolean grouped, int batch, int seq) {
        int k = parts.getFirst().inFeatures();
        GraphBuilder g = new GraphBuilder(grouped ? "group" : "parts");
        String x = g.input("x", TensorType.of(DType.UINT8, batch, seq, k));
        String s = g.input("s", TensorType.of(DType.FLOAT32, batch * seq));
        String z = g.input("z", TensorType.of(DType.INT32, batch * seq));
        List<String> outs = new ArrayList<>();
        if (grouped) outs.addAll(g.add("qkv", new Int8LinearGroup(parts), x, s, z));
        else for (int i = 0; i < parts.size(); i++) outs.add(g.add1("part" + i, parts.get(i), x, s, z));
        for (String o : outs) g.output(o);
        return g.build();
    }

    private static int[] bits(Graph g, GraphRuntime.Result r) {
        List<Integer> b = new ArrayList<>();
        for (var o : g.outputs()) for (float v : r.output(o.name()).floats()) b.add(Float.floatToIntBits(v));
        return b.stream().mapToInt(Integer::intValue).toArray();
    }

    @ParameterizedTest(name = "{0}x{1} K={2} widths {3}, zero points {4}, bias {5}, {6}")
    @CsvSource({
            "1, 128, 384, 384/384/384, false, true, NONE",       // MiniLM's Q, K, V at batch 1
            "2, 7, 37, 40/24/56, true, true, NONE",              // K tail, widths off the register block
            "1, 5, 64, 32/48, true, false, GELU_ERF",            // two parts, no bias, an activation
            "3, 1, 100, 16/16/16, false, false, NONE"})
    void aGroupIsExactlyItsPartsOnBothBackends(int batch, int seq, int k, String widths, boolean zeroPoints, boolean bias, Activation act) {
        SplittableRandom rnd = new SplittableRandom(batch * 131L + seq * 7L + k);
        List<Int8Linear> parts = new ArrayList<>();
        String[] w = widths.split("/");
        for (int i = 0; i < w.length; i++) parts.add(linear(rnd, k, Integer.parseInt(w[i]), zeroPoints && i > 0, bias, act));
        int rows = batch * seq;
        byte[] x = new byte[rows * k];
        rnd.nextBytes(x);
        float[] s = new float[rows];
        int[] z = new int[rows];
        for (int r = 0; r < rows; r++) { s[r] = (float) rnd.nextDouble(5e-3, 2e-2); z[r] = rnd.nextInt(0, 256); }
        Map<String, HostTensor> in = Map.of("x", HostTensor.of(TensorType.of(DType.UINT8, batch, seq, k), x),
                "s", HostTensor.of(TensorType.of(DType.FLOAT32, rows), s), "z", HostTensor.of(TensorType.of(DType.INT32, rows), z));
        Graph group = graph(parts, true, batch, seq), separate = graph(parts, false, batch, seq);
        int[] javaGroup = bits(group, GraphFixtures.run(group, CL.pool(), "java", in));
        int[] clGroup = bits(group, GraphFixtures.run(group, CL.pool(), "cl:cpu", in));
        assertArrayEquals(bits(separate, GraphFixtures.run(separate, CL.pool(), "java", in)), javaGroup, "java: group != parts");
        assertArrayEquals(bits(separate, GraphFixtures.run(separate, CL.pool(), "cl:cpu", in)), clGroup, "OpenCL: group != parts");
        assertArrayEquals(javaGroup, clGroup, "OpenCL != java");
    }

    @Test
    void onlyLinearsOfOneInputSizeActivationAndBiasKindGroup() {
        SplittableRandom rnd = new SplittableRandom(3);
        Int8Linear a = linear(rnd, 16, 8, false, true, Activation.NONE);
        assertFalse(Int8LinearGroup.fits(List.of(a)), "one part");
        assertFalse(Int8LinearGroup.fits(List.of(a, linear(rnd, 32, 8, false, true, Activation.NONE))), "K differs");
        assertFalse(Int8LinearGroup.fits(List.of(a, linear(rnd, 16, 8, false, false, Activation.NONE))), "bias on one only");
        assertFalse(Int8LinearGroup.fits(List.of(a, linear(rnd, 16, 8, false, true, Activation.RELU))), "activation differs");
        assertFalse(Int8LinearGroup.fits(List.of(a, a, a, a)), "four parts");
        assertThrows(IllegalArgumentException.class, () -> new Int8LinearGroup(List.of(a)));
        assertEquals(3, new Int8LinearGroup(List.of(a, a, a)).outputTypes(List.of(TensorType.of(DType.UINT8, 2, 16),
                TensorType.of(DType.FLOAT32, 2), TensorType.of(DType.INT32, 2))).size());
    }
}
