package dev.offload.ops.attention;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.Attention;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.TensorType;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import java.util.List;
import java.util.Set;

/**
 * The graph's {@link Attention} on the java device, through {@link AttentionReference} (its ONNX Runtime variant for
 * imported models): the judge of {@link AttentionOpenCl}. Under a KV cache (decode) a causal node's new keys and
 * values join the cache and the query attends over everything cached.
 */
public final class AttentionJava implements OpImplementation {
    public static final AttentionJava INSTANCE = new AttentionJava();
    public static final Set<Class<? extends Op>> OPS = Set.of(Attention.class);

    private AttentionJava() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        Attention a = (Attention) node.op();
        return (in, ctx) -> {
            TensorType q = in.get(0).type(), k = in.get(1).type();
            int[] lengths = in.size() > 3 ? ((HostTensor) in.get(3)).ints() : null;
            float[] keys = ((HostTensor) in.get(1)).floats(), values = ((HostTensor) in.get(2)).floats();
            int batch = q.dim(0), sq = q.dim(1), skv = k.dim(1);
            if (a.causal() && ctx.kvCache() != null) {
                float[][] all = ctx.kvCache().appendHost(node.name(), batch, k.last(), keys, values, k.dim(1));
                keys = all[0];
                values = all[1];
                skv = keys.length / (batch * k.last());
            }
            float[] queries = ((HostTensor) in.get(0)).floats();
            float[] out = a.onnxRuntime()
                    ? AttentionReference.onnxRuntime(a.heads(), a.kvHeads(), a.headDim(), a.onnxDivisor(), queries, keys, values, lengths, batch, sq, skv)
                    : AttentionReference.tokenMajor(a.heads(), a.kvHeads(), a.headDim(), a.causal(), a.window(), a.scale(), a.softcap(), queries, keys, values,
                            lengths, batch, sq, skv);
            return List.of(HostTensor.of(q, out));
        };
    }
}
