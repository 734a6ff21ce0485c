package dev.offload.runtime;

import dev.offload.device.ComputeDevice;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Quantize;
import dev.offload.graph.TensorType;
import dev.offload.ops.quant.Quantize.Groups;
import dev.offload.tensor.DType;
import java.util.List;

/**
 * The graph's {@link Quantize} on OpenCL through dev.offload.ops.quant.Quantize, bit-exact with
 * {@link QuantizeReference}: the range, the parameters and the quantized values are all computed on the device
 * and stay there for the linear layers that read them. Per tensor and per sentence are DynamicQuantizeLinear over
 * groups of rows ({@code dqg_*} kernels); per row int8 is {@code symmetric_rows} with zero points filled with 0.
 */
public final class QuantizeOpenCl implements OpImplementation {
    public static final QuantizeOpenCl INSTANCE = new QuantizeOpenCl();

    private QuantizeOpenCl() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        OpenClDevice cl = (OpenClDevice) device;
        Quantize.Mode mode = ((Quantize) node.op()).mode();
        List<TensorType> outTypes = graph.outputTypes(node);
        dev.offload.ops.quant.Quantize op = new dev.offload.ops.quant.Quantize(cl);
        return (in, ctx) -> {
            ClTensor x = (ClTensor) in.get(0);
            TensorType xt = x.type();
            ClTensor q = ctx.allocate(cl, outTypes.get(0)), s = ctx.allocate(cl, outTypes.get(1)), z = ctx.allocate(cl, outTypes.get(2));
            KernelLauncher launcher = (k, global, local) -> ctx.launch(cl, k, global, local);
            switch (mode) {
                case PER_ROW_INT8 -> {
                    op.enqueueSymmetricPerRow(x.buffer(), xt.rows(), xt.last(), q.buffer(), s.buffer(), launcher);
                    ctx.enqueue(cl, () -> cl.queue().fill(z.buffer(), new byte[] {0, 0, 0, 0}, 0, 4L * xt.rows()));
                }
                case PER_TENSOR_UINT8 -> {
                    Groups g = new Groups(1, xt.rows(), xt.last(), null);
                    ClTensor partial = scratch(ctx, cl, g);
                    op.enqueueGroups(x.buffer(), g, q.buffer(), s.buffer(), z.buffer(), null, null, partial.buffer(), launcher);
                    ctx.release(partial);
                }
                case PER_SENTENCE_UINT8 -> {
                    int batch = xt.dim(0);
                    Groups g = new Groups(batch, xt.dim(1), xt.last(), ((ClTensor) in.get(1)).buffer());
                    ClTensor partial = scratch(ctx, cl, g);
                    ClTensor gs = ctx.allocate(cl, TensorType.of(DType.FLOAT32, batch)), gz = ctx.allocate(cl, TensorType.of(DType.INT32, batch));
                    op.enqueueGroups(x.buffer(), g, q.buffer(), gs.buffer(), gz.buffer(), s.buffer(), z.buffer(), partial.buffer(), launcher);
                    ctx.release(partial);
                    ctx.release(gs);
                    ctx.release(gz);
                }
            }
            return List.of(q, s, z);
        };
    }

    private static ClTensor scratch(RunContext ctx, OpenClDevice cl, Groups g) {
        return ctx.allocate(cl, TensorType.of(DType.FLOAT32, (int) (dev.offload.ops.quant.Quantize.groupScratchBytes(g) / 4)));
    }
}
