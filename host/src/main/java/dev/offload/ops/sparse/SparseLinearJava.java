package dev.offload.ops.sparse;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.SparseLinear;
import dev.offload.ops.gemm.LinearJava;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import java.util.Set;

/**
 * The graph's {@link SparseLinear} on the java device: a pruned int8 weight is an int8 weight with zeros, so its
 * reference is the dense int8 linear's ({@link LinearJava#int8}, no weight zero points). The judge of {@link SparseLinearOpenCl}.
 */
public final class SparseLinearJava implements OpImplementation {
    public static final SparseLinearJava INSTANCE = new SparseLinearJava();
    public static final Set<Class<? extends Op>> OPS = Set.of(SparseLinear.class);

    private SparseLinearJava() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        SparseLinear s = (SparseLinear) node.op();
        return LinearJava.int8(s.weight(), null, s.weightScales(), s.bias(), s.activation(), s.inFeatures(), s.outFeatures(),
                graph.outputTypes(node).getFirst());
    }
}
