package dev.offload.ops.blockq;

import dev.offload.cl.Buffer;
import dev.offload.device.ComputeDevice;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.BlockLinear;
import dev.offload.graph.BlockLinearGroup;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.TensorType;
import dev.offload.runtime.ClTensor;
import dev.offload.runtime.DeviceTensor;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import dev.offload.runtime.RunContext;
import dev.offload.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The graph's {@link BlockLinear} on OpenCL through {@link BlockMatmul}. The weight's blocks are uploaded once per
 * device and shared by every node that holds the same {@link BlockMatrix} ({@link ResidentWeights}, keyed by its
 * identity): rearranged on the device into the kernel's layout, they take exactly the blocks' bytes. At run time the
 * per-block int8 x and its scales, which a quantize node left on this device, go to the kernel as they are. A
 * {@link BlockLinearGroup} is one launch over its parts' weights (each resident as its own node's would be); a
 * residual input is added in the product's launch.
 * Judge: {@link BlockLinearJava}.
 */
public final class BlockLinearOpenCl implements OpImplementation {
    public static final BlockLinearOpenCl INSTANCE = new BlockLinearOpenCl();
    public static final Set<Class<? extends Op>> OPS = BlockLinearJava.OPS;

    private BlockLinearOpenCl() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        OpenClDevice cl = (OpenClDevice) device;
        List<BlockLinear> parts = node.op() instanceof BlockLinearGroup g ? g.parts() : List.of((BlockLinear) node.op());
        BlockMatmul matmul = new BlockMatmul(cl);
        ResidentWeights.Holder held = weights.holder(cl);
        try {
            List<Part> resident = new ArrayList<>();
            for (BlockLinear l : parts) {
                BlockMatrix w = l.weight();
                Buffer blocks = held.upload(w, w.blocks(), ggml -> matmul.relayout(w, ggml));
                Buffer bias = l.bias() == null ? null : held.upload(l.bias());
                resident.add(new Part(new BlockMatmul.DeviceWeight(w.format(), w.rows(), w.cols(), blocks), bias));
            }
            return new Resident(matmul, resident, graph.outputTypes(node), held);
        } catch (RuntimeException e) {
            held.close();
            throw e;
        }
    }

    /** One linear's weight and bias on one device. */
    private record Part(BlockMatmul.DeviceWeight weight, Buffer bias) {}

    /** One node's weights on one device (owned by the store: released through the holder, never closed here). */
    private record Resident(BlockMatmul matmul, List<Part> parts, List<TensorType> outTypes, ResidentWeights.Holder held) implements Prepared {
        @Override
        public List<DeviceTensor> run(List<DeviceTensor> in, RunContext ctx) {
            OpenClDevice cl = matmul.device();
            ClTensor x = (ClTensor) in.get(0), dx = (ClTensor) in.get(1);
            int rows = x.type().rows();
            List<DeviceTensor> ys = new ArrayList<>();
            List<BlockMatmul.Product> products = new ArrayList<>();
            for (int i = 0; i < parts.size(); i++) {
                ClTensor y = ctx.allocate(cl, outTypes.get(i));
                ys.add(y);
                Buffer residual = i == 0 && in.size() > 3 ? ((ClTensor) in.get(3)).buffer() : null;   // only a single linear has one
                products.add(new BlockMatmul.Product(parts.get(i).weight(), parts.get(i).bias(), residual, y.buffer()));
            }
            long scratchBytes = matmul.scratchBytes(rows, parts.getFirst().weight());
            ClTensor scratch = scratchBytes > 0 ? ctx.allocate(cl, TensorType.of(DType.INT32, (int) (scratchBytes / 4))) : null;
            matmul.enqueue(x.buffer(), dx.buffer(), rows, products, scratch == null ? null : scratch.buffer(),
                    (k, global, local) -> ctx.launch(cl, k, global, local));
            if (scratch != null) ctx.release(scratch);
            return ys;
        }

        @Override
        public void close() { held.close(); }
    }
}
