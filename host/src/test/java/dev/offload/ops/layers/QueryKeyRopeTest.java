package dev.offload.ops.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.QueryKeyRope;
import dev.offload.graph.RotaryEmbedding;
import dev.offload.graph.TensorType;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.tensor.DType;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link QueryKeyRope} gives, bit for bit, what a rope node each for q and k gives, on java and on OpenCL. */
class QueryKeyRopeTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static final int TOKENS = 5, Q_HEADS = 6, K_HEADS = 2, HEAD_DIM = 32;

    private static Graph graph(boolean fused, RotaryEmbedding query, RotaryEmbedding key) {
        GraphBuilder b = new GraphBuilder(fused ? "rope-qk" : "rope-q-then-k");
        String q = b.input("q", TensorType.of(DType.FLOAT32, 1, TOKENS, Q_HEADS * HEAD_DIM));
        String k = b.input("k", TensorType.of(DType.FLOAT32, 1, TOKENS, K_HEADS * HEAD_DIM));
        String pos = b.input("positions", TensorType.of(DType.INT32, 1, TOKENS));
        List<String> out = fused ? b.add("rope", new QueryKeyRope(query, key), q, k, pos)
                : List.of(b.add1("q.rope", query, q, pos), b.add1("k.rope", key, k, pos));
        return b.output(out.get(0)).output(out.get(1)).build();
    }

    private static int[] bits(Graph g, GraphRuntime.Result r) {
        float[] q = r.output(g.outputs().get(0).name()).floats(), k = r.output(g.outputs().get(1).name()).floats();
        int[] b = new int[q.length + k.length];
        for (int i = 0; i < q.length; i++) b[i] = Float.floatToIntBits(q[i]);
        for (int i = 0; i < k.length; i++) b[q.length + i] = Float.floatToIntBits(k[i]);
        return b;
    }

    @ParameterizedTest
    @EnumSource(RotaryEmbedding.Style.class)
    void oneLaunchIsExactlyTwoRopeNodes(RotaryEmbedding.Style style) {
        RotaryEmbedding query = RotaryEmbedding.of(Q_HEADS, HEAD_DIM, style, 10000f, 64), key = query.withHeads(K_HEADS);
        SplittableRandom rnd = new SplittableRandom(3);
        float[] q = new float[TOKENS * Q_HEADS * HEAD_DIM], k = new float[TOKENS * K_HEADS * HEAD_DIM];
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextDouble(-3, 3);
        for (int i = 0; i < k.length; i++) k[i] = (float) rnd.nextDouble(-3, 3);
        Map<String, HostTensor> in = Map.of("q", HostTensor.of(TensorType.of(DType.FLOAT32, 1, TOKENS, Q_HEADS * HEAD_DIM), q),
                "k", HostTensor.of(TensorType.of(DType.FLOAT32, 1, TOKENS, K_HEADS * HEAD_DIM), k),
                "positions", HostTensor.of(TensorType.of(DType.INT32, 1, TOKENS), new int[] {63, 0, 17, 64, 5}));
        Graph fused = graph(true, query, key), separate = graph(false, query, key);
        int[] want = bits(separate, GraphFixtures.run(separate, CL.pool(), "java", in));
        assertArrayEquals(want, bits(fused, GraphFixtures.run(fused, CL.pool(), "java", in)), "java");
        assertArrayEquals(want, bits(fused, GraphFixtures.run(fused, CL.pool(), "cl:cpu", in)), "OpenCL vs java");
        assertArrayEquals(bits(separate, GraphFixtures.run(separate, CL.pool(), "cl:cpu", in)), bits(fused, GraphFixtures.run(fused, CL.pool(), "cl:cpu", in)),
                "OpenCL: one launch vs two");
    }

    @Test
    void queriesAndKeysMustShareTheTables() {
        RotaryEmbedding query = RotaryEmbedding.of(Q_HEADS, HEAD_DIM, RotaryEmbedding.Style.HALVES, 10000f, 64);
        assertThrows(IllegalArgumentException.class, () -> new QueryKeyRope(query, RotaryEmbedding.of(K_HEADS, HEAD_DIM, RotaryEmbedding.Style.HALVES, 500000f, 64)));
        assertThrows(IllegalArgumentException.class, () -> new QueryKeyRope(query, RotaryEmbedding.of(K_HEADS, HEAD_DIM, RotaryEmbedding.Style.ADJACENT_PAIRS, 10000f, 64)));
    }
}
