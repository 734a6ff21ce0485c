package dev.offload.ops.blockq;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.BlockLinear;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.TensorType;
import dev.offload.runtime.DeviceTensor;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import java.util.List;
import java.util.Set;

/**
 * The graph's {@link BlockLinear} on the java device: {@link BlockLinearReference} itself (parallel over output
 * features), the judge of {@link BlockLinearOpenCl}. The weight is read from its blocks where they lie (a mapped
 * GGUF file): nothing is decoded ahead.
 */
public final class BlockLinearJava implements OpImplementation {
    public static final BlockLinearJava INSTANCE = new BlockLinearJava();
    public static final Set<Class<? extends Op>> OPS = Set.of(BlockLinear.class);

    private BlockLinearJava() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        BlockLinear l = (BlockLinear) node.op();
        TensorType out = graph.outputTypes(node).getFirst();
        return (in, ctx) -> {
            HostTensor x = (HostTensor) in.get(0);
            float[] y = BlockLinearReference.linear(x.bytes(), ((HostTensor) in.get(1)).floats(), x.type().rows(), l.weight(), l.bias());
            return List.<DeviceTensor>of(HostTensor.of(out, y));
        };
    }
}
