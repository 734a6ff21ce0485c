package dev.offload.ops.layers;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.Add;
import dev.offload.graph.Embedding;
import dev.offload.graph.Gelu;
import dev.offload.graph.Graph;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.LayerNormQuantize;
import dev.offload.graph.MeanPool;
import dev.offload.graph.LastToken;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.QueryKeyRope;
import dev.offload.graph.RmsNorm;
import dev.offload.graph.RmsNormBlockQuantize;
import dev.offload.graph.RotaryEmbedding;
import dev.offload.graph.SiluGate;
import dev.offload.graph.SiluGateBlockQuantize;
import dev.offload.graph.GeluGateBlockQuantize;
import dev.offload.graph.TensorType;
import dev.offload.ops.quant.QuantizeReference;
import dev.offload.runtime.DeviceTensor;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import java.util.List;
import java.util.Set;

/** The layers family on the java device, through {@link LayersReference}: the judge of {@link LayersOpenCl}, and its fallback. */
public final class LayersJava implements OpImplementation {
    public static final LayersJava INSTANCE = new LayersJava();
    public static final Set<Class<? extends Op>> OPS = Set.of(LayerNorm.class, LayerNormQuantize.class, RmsNorm.class, Gelu.class, SiluGate.class,
            Add.class, Embedding.class, MeanPool.class, RotaryEmbedding.class, LastToken.class,
            RmsNormBlockQuantize.class, SiluGateBlockQuantize.class, GeluGateBlockQuantize.class, QueryKeyRope.class);

    private LayersJava() {}

    private static HostTensor host(List<DeviceTensor> in, int i) { return (HostTensor) in.get(i); }

    /** A fused op's float result [rows][cols] block-quantized as the graph's quantize node would: (data, scales, zero point). */
    private static List<DeviceTensor> blockQuantized(List<TensorType> outs, float[] y) {
        TensorType t = outs.getFirst();
        QuantizeReference.Quantized q = QuantizeReference.perBlockInt8(y, t.rows(), t.last());
        return List.of(HostTensor.of(t, q.data()), HostTensor.of(outs.get(1), q.scales()), HostTensor.of(outs.get(2), q.zeroPoints()));
    }

    /** The norm of x (input 0), or of x + residual (input 1): the Add node's sum, then the norm, so a fused node gives the unfused pair's bits. */
    private static float[] layerNorm(LayerNorm n, List<DeviceTensor> in, boolean residual) {
        float[] x = residual ? LayersReference.add(host(in, 0).floats(), host(in, 1).floats()) : host(in, 0).floats();
        int cols = n.gamma().length;
        return n.onnxRuntime() ? LayersReference.layerNormOnnx(x, cols, n.gamma(), n.beta(), n.epsilon())
                : LayersReference.layerNorm(x, cols, n.gamma(), n.beta(), n.epsilon());
    }

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        List<TensorType> outs = graph.outputTypes(node);
        TensorType out = outs.getFirst();
        return switch (node.op()) {
            case LayerNorm n -> (in, ctx) -> List.of(HostTensor.of(out, layerNorm(n, in, in.size() == 2)));
            case LayerNormQuantize n -> (in, ctx) -> {
                float[] y = layerNorm(n.norm(), in, LayerNormQuantize.hasResidual(in));
                QuantizeReference.Quantized q = QuantizeReference.perSentenceUint8(y, out.dim(0), out.dim(1), out.last(), host(in, in.size() - 1).ints());
                return List.of(HostTensor.of(out, y), HostTensor.of(outs.get(1), q.data()), HostTensor.of(outs.get(2), q.scales()),
                        HostTensor.of(outs.get(3), q.zeroPoints()));
            };
            case RmsNorm n -> (in, ctx) -> List.of(HostTensor.of(out,
                    LayersReference.rmsNorm(host(in, 0).floats(), n.gamma().length, n.gamma(), n.epsilon())));
            case RmsNormBlockQuantize n -> (in, ctx) -> blockQuantized(outs,
                    LayersReference.rmsNorm(host(in, 0).floats(), out.last(), n.gamma(), n.epsilon()));
            case SiluGateBlockQuantize s -> (in, ctx) -> blockQuantized(outs, LayersReference.siluGate(host(in, 0).floats(), host(in, 1).floats()));
            case GeluGateBlockQuantize s -> (in, ctx) -> blockQuantized(outs, LayersReference.geluGate(host(in, 0).floats(), host(in, 1).floats()));
            case Gelu g -> (in, ctx) -> List.of(HostTensor.of(out, LayersReference.gelu(host(in, 0).floats(), g.tanhApproximation())));
            case SiluGate s -> (in, ctx) -> List.of(HostTensor.of(out, LayersReference.siluGate(host(in, 0).floats(), host(in, 1).floats())));
            case Add a -> (in, ctx) -> List.of(HostTensor.of(out, LayersReference.add(host(in, 0).floats(), host(in, 1).floats())));
            case Embedding e -> (in, ctx) -> List.of(HostTensor.of(out, LayersReference.embedding(host(in, 0).ints(),
                    in.get(0).type().dim(1), e.dim(), e.table(), e.int8Table(), e.rowScales(),
                    e.index() == Embedding.Index.POSITION, e.positionOffset())));
            case MeanPool p -> (in, ctx) -> {
                TensorType x = in.get(0).type();
                return List.of(HostTensor.of(out, LayersReference.meanPool(host(in, 0).floats(), x.dim(0), x.dim(1), x.dim(2),
                        in.size() > 1 ? host(in, 1).ints() : null)));
            };
            case RotaryEmbedding r -> (in, ctx) -> List.of(HostTensor.of(out, LayersReference.rope(host(in, 0).floats(), host(in, 1).ints(), r)));
            case QueryKeyRope r -> (in, ctx) -> {
                int[] positions = host(in, 2).ints();
                return List.of(HostTensor.of(out, LayersReference.rope(host(in, 0).floats(), positions, r.query())),
                        HostTensor.of(outs.get(1), LayersReference.rope(host(in, 1).floats(), positions, r.key())));
            };
            case LastToken l -> (in, ctx) -> {
                TensorType x = in.get(0).type();
                return List.of(HostTensor.of(out, LayersReference.lastToken(host(in, 0).floats(), x.dim(0), x.dim(1), x.dim(2))));
            };
            default -> throw new IllegalArgumentException("the layers family does not implement " + node.opKind() + " (node " + node.name() + ")");
        };
    }
}
