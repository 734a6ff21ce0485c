package dev.offload.ops.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.RmsNorm;
import dev.offload.graph.RmsNormBlockQuantize;
import dev.offload.graph.SiluGate;
import dev.offload.graph.SiluGateBlockQuantize;
import dev.offload.graph.TensorType;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.tensor.DType;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused {@link RmsNormBlockQuantize} and {@link SiluGateBlockQuantize} nodes give exactly what the unfused pair
 * (the op, then {@link DynamicQuantize} per block) gives, on java and on OpenCL, and java and OpenCL agree within one
 * int8 step and one fp16 rounding of the scales (the float sums of the norm, the float exp of SiLU differ by ulps).
 */
class FusedBlockQuantizeTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static final List<String> OUTPUTS = List.of("q", "scales", "zero");

    private static Graph graph(boolean fused, boolean silu, TensorType t, float[] gamma) {
        GraphBuilder b = new GraphBuilder(fused ? "fused" : "unfused");
        String x = b.input("x", t);
        String[] in = silu ? new String[] {x, b.input("y", t)} : new String[] {x};
        List<String> q;
        if (fused) {
            q = b.add("op", silu ? new SiluGateBlockQuantize() : new RmsNormBlockQuantize(gamma, 1e-5f), in);
        } else {
            String f = b.add1("op", silu ? new SiluGate() : new RmsNorm(gamma, 1e-5f), in);
            q = b.add("quantize", new DynamicQuantize(DynamicQuantize.Mode.PER_BLOCK_INT8), f);
        }
        for (String o : q) b.output(o);
        return b.build();
    }

    /** [scale bits..., q..., zero point] of a run's three outputs. */
    private static int[] flat(Graph g, GraphRuntime.Result r) {
        float[] s = r.output(g.outputs().get(1).name()).floats();
        byte[] q = r.output(g.outputs().get(0).name()).bytes();
        int[] f = new int[s.length + q.length + 1];
        for (int i = 0; i < s.length; i++) f[i] = Float.floatToIntBits(s[i]);
        for (int i = 0; i < q.length; i++) f[s.length + i] = q[i];
        f[f.length - 1] = r.output(g.outputs().get(2).name()).ints()[0];
        return f;
    }

    @ParameterizedTest
    @CsvSource({"false, 1, 32", "false, 3, 96", "false, 2, 2048", "true, 1, 32", "true, 3, 160", "true, 1, 8192"})
    void fusedIsExactlyTheUnfusedPairOnBothBackends(boolean silu, int rows, int cols) {
        SplittableRandom rnd = new SplittableRandom(7 + rows * 31L + cols);
        TensorType t = TensorType.of(DType.FLOAT32, 1, rows, cols);
        float[] x = new float[rows * cols], y = new float[rows * cols], gamma = new float[cols];
        for (int i = 0; i < x.length; i++) { x[i] = (float) rnd.nextDouble(-4, 4); y[i] = (float) rnd.nextDouble(-2, 2); }
        for (int i = 0; i < cols; i++) gamma[i] = (float) rnd.nextDouble(-2, 2);
        Map<String, HostTensor> in = silu ? Map.of("x", HostTensor.of(t, x), "y", HostTensor.of(t, y)) : Map.of("x", HostTensor.of(t, x));
        Graph fused = graph(true, silu, t, gamma), unfused = graph(false, silu, t, gamma);
        int[] fusedJava = flat(fused, GraphFixtures.run(fused, CL.pool(), "java", in));
        int[] fusedCl = flat(fused, GraphFixtures.run(fused, CL.pool(), "cl:cpu", in));
        assertArrayEquals(flat(unfused, GraphFixtures.run(unfused, CL.pool(), "java", in)), fusedJava, "java: fused != unfused");
        assertArrayEquals(flat(unfused, GraphFixtures.run(unfused, CL.pool(), "cl:cpu", in)), fusedCl, "OpenCL: fused != unfused");
        int blocks = rows * cols / 32;
        for (int b = 0; b < blocks; b++) {
            float want = Float.intBitsToFloat(fusedJava[b]), got = Float.intBitsToFloat(fusedCl[b]);
            assertTrue(Math.abs(got - want) <= Math.abs(want) * 0x1p-10, "scale of block " + b + ": " + got + " vs " + want);
        }
        for (int i = blocks; i < fusedJava.length; i++) {
            assertTrue(Math.abs(fusedJava[i] - fusedCl[i]) <= 1, "q[" + (i - blocks) + "]: " + fusedCl[i] + " vs " + fusedJava[i]);
        }
    }
}
