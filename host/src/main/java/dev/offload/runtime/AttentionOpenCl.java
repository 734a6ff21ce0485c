package dev.offload.runtime;

import dev.offload.cl.Buffer;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.ComputeDevice;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Attention;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.TensorType;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.attention.AttentionProblem;
import dev.offload.ops.attention.AttentionShape;
import dev.offload.ops.attention.FusedAttention;
import dev.offload.ops.attention.Mask;
import dev.offload.tensor.DType;
import java.util.List;

/**
 * The graph's {@link Attention} on OpenCL through {@link FusedAttention} (dev.offload.ops.attention): q, k, v are
 * rearranged from the graph's token-major [B, S, H*D] into the head-major [B, H, S, D] the kernel takes
 * ({@code to_heads} in layers.cl), the output back ({@code from_heads}). Key lengths become the kernel's
 * key-padding mask; they are read to the host because the op takes them as an array.
 *
 * <p>{@link FusedAttention#run} waits for its kernel, so the host synchronizes with this device at every attention
 * node; its time is measured with markers around it ({@link RunContext#bracket}). An {@link Attention#onnxRuntime}
 * op (imported models) runs layers.cl's attention_onnx instead, which rounds as ONNX Runtime does and waits for nothing.
 */
public final class AttentionOpenCl implements OpImplementation {
    public static final AttentionOpenCl INSTANCE = new AttentionOpenCl();

    private AttentionOpenCl() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device) {
        OpenClDevice cl = (OpenClDevice) device;
        Attention a = (Attention) node.op();
        Program layers = cl.program(KernelFamily.LAYERS, LayersOpenCl.buildOptions());
        FusedAttention fused = new FusedAttention(cl);
        TensorType q = graph.tensor(node.inputs().get(0)).type(), k = graph.tensor(node.inputs().get(1)).type();
        int batch = q.dim(0), sq = q.dim(1), skv = k.dim(1);
        AttentionShape shape = new AttentionShape(batch, a.heads(), a.kvHeads(), sq, skv, a.headDim());
        if (a.onnxRuntime()) return onnx(a, layers, cl, batch, sq, skv);
        return (in, ctx) -> {
            Mask mask = a.causal() ? Mask.CAUSAL : Mask.NONE;
            if (in.size() > 3) {
                int[] lengths = cl.readInts(((ClTensor) in.get(3)).buffer(), batch);
                for (int b = 0; b < batch; b++) lengths[b] = Math.min(Math.max(lengths[b], 0), skv);
                mask = mask.withKvLengths(lengths);
            }
            AttentionProblem problem = AttentionProblem.of(shape).withMask(mask).withScale(a.scale());
            ClTensor qh = heads(layers, cl, ctx, in.get(0), in.get(0).type(), "to_heads", sq, a.heads(), a.headDim());
            ClTensor kh = heads(layers, cl, ctx, in.get(1), in.get(1).type(), "to_heads", skv, a.kvHeads(), a.headDim());
            ClTensor vh = heads(layers, cl, ctx, in.get(2), in.get(2).type(), "to_heads", skv, a.kvHeads(), a.headDim());
            ClTensor oh = ctx.allocate(cl, TensorType.of(DType.FLOAT32, (int) shape.outputElements()));
            ctx.bracket(cl, () -> fused.run(problem, qh.buffer(), kh.buffer(), vh.buffer(), oh.buffer()));
            ctx.release(qh);
            ctx.release(kh);
            ctx.release(vh);
            ClTensor out = heads(layers, cl, ctx, oh, q, "from_heads", sq, a.heads(), a.headDim());
            ctx.release(oh);
            return List.of(out);
        };
    }

    /**
     * {@link Attention#onnxRuntime}: layers.cl's attention_onnx on the token-major q and v as they are, K first turned
     * into columns (keys_to_columns) so that scores are computed 16 keys per vector; key lengths are read on the
     * device (no host synchronization); a scratch row of scores per query.
     */
    private static Prepared onnx(Attention a, Program layers, OpenClDevice cl, int batch, int sq, int skv) {
        Buffer noLengths = cl.upload(new int[1]);   // stands in for absent lengths: a kernel argument cannot be null
        int skv16 = (skv + 15) / 16 * 16;
        return new Prepared() {
            @Override
            public List<DeviceTensor> run(List<DeviceTensor> in, RunContext ctx) {
                ClTensor out = ctx.allocate(cl, in.get(0).type());
                ClTensor kt = ctx.allocate(cl, TensorType.of(DType.FLOAT32, batch * a.kvHeads() * a.headDim() * skv16));
                ClTensor scratch = ctx.allocate(cl, TensorType.of(DType.FLOAT32, batch * a.heads() * sq * skv16));
                boolean hasLengths = in.size() > 3;
                try (Kernel k = layers.kernel("keys_to_columns")) {
                    k.arg(0, ((ClTensor) in.get(1)).buffer()).arg(1, kt.buffer()).arg(2, skv).arg(3, skv16).arg(4, a.kvHeads()).arg(5, a.headDim());
                    ctx.launch(cl, k, new long[] {skv16, (long) batch * a.kvHeads()}, null);
                }
                try (Kernel k = layers.kernel("attention_onnx")) {
                    k.arg(0, ((ClTensor) in.get(0)).buffer()).arg(1, kt.buffer()).arg(2, ((ClTensor) in.get(2)).buffer())
                            .arg(3, hasLengths ? ((ClTensor) in.get(3)).buffer() : noLengths).arg(4, hasLengths ? 1 : 0)
                            .arg(5, out.buffer()).arg(6, scratch.buffer()).arg(7, sq).arg(8, skv).arg(9, skv16).arg(10, a.heads())
                            .arg(11, a.kvHeads()).arg(12, a.headDim()).arg(13, a.onnxDivisor());
                    ctx.launch(cl, k, new long[] {sq, (long) batch * a.heads()}, null);
                }
                ctx.release(kt);
                ctx.release(scratch);
                return List.of(out);
            }

            @Override public void close() { noLengths.close(); }
        };
    }

    private static ClTensor heads(Program p, OpenClDevice cl, RunContext ctx, DeviceTensor x, TensorType outType, String kernel,
                                  int seq, int heads, int dim) {
        ClTensor y = ctx.allocate(cl, outType);
        int batch = (int) (x.type().elements() / ((long) seq * heads * dim));
        try (Kernel k = p.kernel(kernel)) {
            k.arg(0, ((ClTensor) x).buffer()).arg(1, y.buffer()).arg(2, seq).arg(3, heads).arg(4, dim);
            ctx.launch(cl, k, new long[] {seq, (long) batch * heads}, null);
        }
        return y;
    }
}
