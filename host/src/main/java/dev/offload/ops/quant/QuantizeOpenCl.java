package dev.offload.ops.quant;

import dev.offload.device.ComputeDevice;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Dequantize;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.Op;
import dev.offload.graph.TensorType;
import dev.offload.runtime.ClTensor;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import dev.offload.runtime.RunContext;
import dev.offload.tensor.DType;
import java.util.List;
import java.util.Set;

/**
 * The graph's {@link DynamicQuantize} and {@link Dequantize} on OpenCL through {@link Quantize}, bit-exact with
 * {@link QuantizeReference}: the range, the parameters and the quantized values are all computed on the device
 * and stay there for the linear layers that read them. Per tensor and per sentence are DynamicQuantizeLinear over
 * groups of rows ({@code dqg_*} kernels); per row int8 is {@code symmetric_rows}, which also writes the zero points (0) in its launch, per
 * block int8 is {@code block_int8}, which writes its one zero point (0) itself.
 */
public final class QuantizeOpenCl implements OpImplementation {
    public static final QuantizeOpenCl INSTANCE = new QuantizeOpenCl();
    public static final Set<Class<? extends Op>> OPS = QuantizeJava.OPS;

    private QuantizeOpenCl() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        OpenClDevice cl = (OpenClDevice) device;
        List<TensorType> outTypes = graph.outputTypes(node);
        Quantize op = new Quantize(cl);
        if (node.op() instanceof Dequantize) {
            return (in, ctx) -> {
                ClTensor q = (ClTensor) in.get(0), s = (ClTensor) in.get(1), z = (ClTensor) in.get(2);
                ClTensor y = ctx.allocate(cl, outTypes.getFirst());
                QuantParams.Axis axis = s.type().dim(0) == 1 ? QuantParams.Axis.TENSOR : QuantParams.Axis.ROW;
                op.enqueueDequantize(q.buffer(), QuantizeJava.type(q.type()), q.type().rows(), q.type().last(), axis,
                        s.buffer(), z.buffer(), y.buffer(), (k, global, local) -> ctx.launch(cl, k, global, local));
                return List.of(y);
            };
        }
        DynamicQuantize.Mode mode = ((DynamicQuantize) node.op()).mode();
        return (in, ctx) -> {
            ClTensor x = (ClTensor) in.get(0);
            TensorType xt = x.type();
            ClTensor q = ctx.allocate(cl, outTypes.get(0)), s = ctx.allocate(cl, outTypes.get(1)), z = ctx.allocate(cl, outTypes.get(2));
            KernelLauncher launcher = (k, global, local) -> ctx.launch(cl, k, global, local);
            switch (mode) {
                case PER_ROW_INT8 -> op.enqueueSymmetricPerRow(x.buffer(), xt.rows(), xt.last(), q.buffer(), s.buffer(), z.buffer(), launcher);
                case PER_BLOCK_INT8 -> op.enqueuePerBlockInt8(x.buffer(), xt.rows(), xt.last(), q.buffer(), s.buffer(), z.buffer(), launcher);
                case PER_TENSOR_UINT8 -> {
                    Quantize.Groups g = new Quantize.Groups(1, xt.rows(), xt.last(), null);
                    ClTensor partial = scratch(ctx, cl, g);
                    op.enqueueGroups(x.buffer(), g, q.buffer(), s.buffer(), z.buffer(), null, null, partial.buffer(), launcher);
                    ctx.release(partial);
                }
                case PER_SENTENCE_UINT8 -> {
                    int batch = xt.dim(0);
                    Quantize.Groups g = new Quantize.Groups(batch, xt.dim(1), xt.last(), ((ClTensor) in.get(1)).buffer());
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

    private static ClTensor scratch(RunContext ctx, OpenClDevice cl, Quantize.Groups g) {
        return ctx.allocate(cl, TensorType.of(DType.FLOAT32, (int) (Quantize.groupScratchBytes(g) / 4)));
    }
}
