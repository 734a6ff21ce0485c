package dev.offload.ops.blockq;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.BlockLinear;
import dev.offload.graph.BlockLinearGroup;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.TensorType;
import dev.offload.ops.layers.LayersReference;
import dev.offload.runtime.DeviceTensor;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The graph's {@link BlockLinear} on the java device: {@link BlockLinearReference} itself (parallel over output
 * features), the judge of {@link BlockLinearOpenCl}. The weight is read from its blocks where they lie (a mapped
 * GGUF file): nothing is decoded ahead. A {@link BlockLinearGroup} is its parts, each computed as a node of its own;
 * a residual input is added after the product as the {@code Add} node's reference adds it.
 */
public final class BlockLinearJava implements OpImplementation {
    public static final BlockLinearJava INSTANCE = new BlockLinearJava();
    public static final Set<Class<? extends Op>> OPS = Set.of(BlockLinear.class, BlockLinearGroup.class);

    private BlockLinearJava() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        List<BlockLinear> parts = node.op() instanceof BlockLinearGroup g ? g.parts() : List.of((BlockLinear) node.op());
        List<TensorType> outs = graph.outputTypes(node);
        return (in, ctx) -> {
            HostTensor x = (HostTensor) in.get(0);
            float[] dx = ((HostTensor) in.get(1)).floats();
            List<DeviceTensor> ys = new ArrayList<>();
            for (int i = 0; i < parts.size(); i++) {
                BlockLinear l = parts.get(i);
                float[] y = BlockLinearReference.linear(x.bytes(), dx, x.type().rows(), l.weight(), l.bias());
                // A residual: the add node's own reference, residual + y.
                if (l.residual()) y = LayersReference.add(((HostTensor) in.get(3)).floats(), y);
                ys.add(HostTensor.of(outs.get(i), y));
            }
            return ys;
        };
    }
}
