package dev.offload.ops.gemm;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.Fp32Linear;
import dev.offload.graph.Graph;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.Int8LinearGroup;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.TensorType;
import dev.offload.runtime.DeviceTensor;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import dev.offload.tensor.DType;
import java.util.List;
import java.util.Set;

/** The graph's dense linear layers on the java device, through {@link Int8GemmReference}: the judge of {@link Int8LinearOpenCl}. */
public final class LinearJava implements OpImplementation {
    public static final LinearJava INSTANCE = new LinearJava();
    public static final Set<Class<? extends Op>> OPS = Set.of(Int8Linear.class, Int8LinearGroup.class, Fp32Linear.class);

    private LinearJava() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        TensorType out = graph.outputTypes(node).getFirst();
        return switch (node.op()) {
            case Int8Linear l -> int8(l.weight(), l.weightZeroPoints(), l.weightScales(), l.bias(), l.activation(),
                    l.inFeatures(), l.outFeatures(), out);
            case Int8LinearGroup g -> {
                List<TensorType> outs = graph.outputTypes(node);
                List<Prepared> parts = new java.util.ArrayList<>();
                for (int i = 0; i < g.parts().size(); i++) {
                    Int8Linear l = g.parts().get(i);
                    parts.add(int8(l.weight(), l.weightZeroPoints(), l.weightScales(), l.bias(), l.activation(), l.inFeatures(), l.outFeatures(),
                            outs.get(i)));
                }
                yield (in, ctx) -> {
                    List<DeviceTensor> y = new java.util.ArrayList<>();
                    for (Prepared p : parts) y.addAll(p.run(in, ctx));
                    return y;
                };
            }
            case Fp32Linear f -> (in, ctx) -> List.of(HostTensor.of(out, Int8GemmReference.fp32Linear(((HostTensor) in.get(0)).floats(),
                    f.weight(), f.bias(), f.activation(), out.rows(), f.inFeatures(), f.outFeatures())));
            default -> throw new IllegalArgumentException("the linear family does not implement " + node.opKind() + " (node " + node.name() + ")");
        };
    }

    /**
     * An int8 linear over the activation triple (data, scales, zero points) a quantize node produced; the weights are
     * widened once, here. Sparse linears run through this too ({@code dev.offload.ops.sparse.SparseLinearJava}).
     */
    public static Prepared int8(byte[] weight, byte[] zeroPoints, float[] scales, float[] bias, Activation act, int k, int n,
                                TensorType out) {
        int[] w = Int8GemmReference.widen(weight, zeroPoints, n);
        return (in, ctx) -> {
            HostTensor a = (HostTensor) in.get(0);
            int m = a.type().rows();
            int[] acc = Int8GemmReference.accumulate(a.bytes(), a.type().dtype() == DType.UINT8, ((HostTensor) in.get(2)).ints(), w, m, k, n);
            return List.<DeviceTensor>of(HostTensor.of(out, Int8GemmReference.int8Linear(acc, m, n, ((HostTensor) in.get(1)).floats(),
                    scales, bias, act)));
        };
    }
}
