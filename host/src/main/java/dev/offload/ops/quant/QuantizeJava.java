package dev.offload.ops.quant;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.Dequantize;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.TensorType;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import dev.offload.tensor.DType;
import java.util.List;
import java.util.Set;

/** The graph's quantize and dequantize nodes on the java device, through {@link QuantizeReference}: the judge of {@link QuantizeOpenCl}. */
public final class QuantizeJava implements OpImplementation {
    public static final QuantizeJava INSTANCE = new QuantizeJava();
    public static final Set<Class<? extends Op>> OPS = Set.of(DynamicQuantize.class, Dequantize.class);

    private QuantizeJava() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        List<TensorType> outTypes = graph.outputTypes(node);
        return switch (node.op()) {
            case DynamicQuantize q -> (in, ctx) -> {
                float[] x = ((HostTensor) in.get(0)).floats();
                TensorType xt = in.get(0).type();
                QuantizeReference.Quantized r = switch (q.mode()) {
                    case PER_TENSOR_UINT8 -> {
                        QuantizeReference.DynamicQuantized d = QuantizeReference.dynamicQuantizeLinear(x);
                        yield new QuantizeReference.Quantized(d.data(), new float[] {d.scale()}, new int[] {d.zeroPoint()});
                    }
                    case PER_ROW_INT8 -> {
                        QuantizeReference.RowQuantized rq = QuantizeReference.symmetricPerRow(x, xt.rows(), xt.last());
                        yield new QuantizeReference.Quantized(rq.data(), rq.scales(), new int[xt.rows()]);
                    }
                    case PER_SENTENCE_UINT8 -> QuantizeReference.perSentenceUint8(x, xt.dim(0), xt.dim(1), xt.last(),
                            ((HostTensor) in.get(1)).ints());
                    case PER_BLOCK_INT8 -> QuantizeReference.perBlockInt8(x, xt.rows(), xt.last());
                };
                return List.of(HostTensor.of(outTypes.get(0), r.data()), HostTensor.of(outTypes.get(1), r.scales()),
                        HostTensor.of(outTypes.get(2), r.zeroPoints()));
            };
            case Dequantize d -> (in, ctx) -> {
                TensorType q = in.get(0).type();
                float[] scales = ((HostTensor) in.get(1)).floats();
                int[] zeroPoints = ((HostTensor) in.get(2)).ints();
                QuantParams params = scales.length == 1 ? QuantParams.perTensor(scales[0], zeroPoints[0]) : QuantParams.perRow(scales, zeroPoints);
                return List.of(HostTensor.of(outTypes.getFirst(), QuantizeReference.dequantize(((HostTensor) in.get(0)).bytes(),
                        type(q), q.rows(), q.last(), params)));
            };
            default -> throw new IllegalArgumentException("the quant family does not implement " + node.opKind() + " (node " + node.name() + ")");
        };
    }

    /** The quantized type of a graph tensor (uint8 or int8). */
    static QuantType type(TensorType t) { return t.dtype() == DType.UINT8 ? QuantType.UINT8 : QuantType.INT8; }
}
