package dev.offload.runtime;

import dev.offload.cl.Buffer;
import dev.offload.cl.DeviceType;
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
 * The graph's {@link Attention} on OpenCL through {@link FusedAttention} (dev.offload.ops.attention), which reads
 * q, k, v in the graph's token-major [B, S, H*D] layout and writes the output in it
 * ({@link AttentionProblem.Layout#TOKEN_MAJOR}): no transposes around the kernel. Key lengths are the kernel's
 * key-padding mask.
 *
 * <p>Under a {@link KvCache} (decode), a causal node first appends its new keys and values to its cache buffers on this
 * device and attends over all cached tokens; the bottom-right aligned causal mask lets query i see keys
 * {@code j <= i + Skv - Sq}.
 *
 * <p>The attention kernels are enqueued like every other command of the run ({@link FusedAttention#enqueue}): the
 * host does not wait here; key-padding lengths go to the kernel as the device tensor they are.
 *
 * <p>An {@link Attention#onnxRuntime} op (imported models) runs layers.cl's attention_onnx instead, which rounds as
 * ONNX Runtime does (so the next quantization sees ONNX Runtime's values) and waits for nothing either.
 */
public final class AttentionOpenCl implements OpImplementation {
    public static final AttentionOpenCl INSTANCE = new AttentionOpenCl();

    private AttentionOpenCl() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device) {
        OpenClDevice cl = (OpenClDevice) device;
        Attention a = (Attention) node.op();
        FusedAttention fused = new FusedAttention(cl);
        TensorType q = graph.tensor(node.inputs().get(0)).type(), k = graph.tensor(node.inputs().get(1)).type();
        int batch = q.dim(0), sq = q.dim(1), kvWidth = a.kvHeads() * a.headDim();
        if (a.onnxRuntime()) return onnx(a, cl.program(KernelFamily.LAYERS, LayersOpenCl.buildOptions()), cl, batch, sq, k.dim(1));
        return (in, ctx) -> {
            DeviceTensor kNew = in.get(1), vNew = in.get(2);
            int skv = k.dim(1);
            KvCache cache = a.causal() ? ctx.kvCache() : null;
            List<ClTensor> gathered = List.of();
            if (cache != null) {
                gathered = appendToCache(cache, node.name(), cl, ctx, (ClTensor) kNew, (ClTensor) vNew, batch, k.dim(1), kvWidth);
                kNew = gathered.get(0);
                vNew = gathered.get(1);
                skv = kNew.type().dim(1);
            }
            AttentionShape shape = new AttentionShape(batch, a.heads(), a.kvHeads(), sq, skv, a.headDim());
            Mask mask = a.causal() ? Mask.CAUSAL : Mask.NONE;
            // Key-padding lengths stay on the device: the kernel reads them (and clamps them to [0, Skv]) itself.
            Buffer lengths = in.size() > 3 ? ((ClTensor) in.get(3)).buffer() : null;
            AttentionProblem problem = AttentionProblem.of(shape).withMask(mask).withScale(a.scale())
                    .withLayout(AttentionProblem.Layout.TOKEN_MAJOR);
            ClTensor out = ctx.allocate(cl, q);
            fused.enqueue(problem, ((ClTensor) in.get(0)).buffer(), ((ClTensor) kNew).buffer(), ((ClTensor) vNew).buffer(),
                    out.buffer(), lengths, (kernel, global, local) -> ctx.launch(cl, kernel, global, local));
            for (ClTensor t : gathered) ctx.release(t);
            return List.of(out);
        };
    }

    /**
     * Appends this step's keys and values ([batch, newTokens, kvWidth]) to the node's cache buffers on this device
     * and gathers all cached ones into contiguous [batch, length, kvWidth] tensors for the kernel: one device copy
     * per sequence and direction, ordered by the in-order queue like every other command of the run.
     */
    private static List<ClTensor> appendToCache(KvCache cache, String node, OpenClDevice cl, RunContext ctx, ClTensor k, ClTensor v,
                                                int batch, int newTokens, int kvWidth) {
        KvCache.ClSlot s = (KvCache.ClSlot) cache.slot(node, cl, batch, kvWidth, newTokens);
        int len = s.length + newTokens;
        long row = 4L * kvWidth, seqBytes = row * cache.capacity();
        TensorType all = TensorType.of(DType.FLOAT32, batch, len, kvWidth);
        ClTensor kAll = ctx.allocate(cl, all), vAll = ctx.allocate(cl, all);
        for (int b = 0; b < batch; b++) {
            long src = b * newTokens * row, dst = b * seqBytes + s.length * row;
            ctx.enqueue(cl, () -> cl.queue().copy(k.buffer(), src, s.k, dst, newTokens * row));
            ctx.enqueue(cl, () -> cl.queue().copy(v.buffer(), src, s.v, dst, newTokens * row));
        }
        for (int b = 0; b < batch; b++) {
            long src = b * seqBytes, dst = b * len * row;
            ctx.enqueue(cl, () -> cl.queue().copy(s.k, src, kAll.buffer(), dst, len * row));
            ctx.enqueue(cl, () -> cl.queue().copy(s.v, src, vAll.buffer(), dst, len * row));
        }
        s.length = len;
        return List.of(kAll, vAll);
    }

    /**
     * {@link Attention#onnxRuntime}: ONNX Runtime's arithmetic on the token-major q, k, v as they are. On a CPU
     * layers.cl's attention_onnx_rows (16 query rows per work-item, one per vector lane); elsewhere attention_onnx with
     * K first turned into columns (keys_to_columns) so that scores are computed 16 keys per vector. Key lengths are
     * read on the device (no host synchronization); a scratch row of scores per query.
     */
    private static Prepared onnx(Attention a, Program layers, OpenClDevice cl, int batch, int sq, int skv) {
        Buffer noLengths = cl.upload(new int[1]);   // stands in for absent lengths: a kernel argument cannot be null
        int skv16 = (skv + 15) / 16 * 16;
        return new Prepared() {
            @Override
            public List<DeviceTensor> run(List<DeviceTensor> in, RunContext ctx) {
                ClTensor out = ctx.allocate(cl, in.get(0).type());
                // CPU: 16 query rows per work-item, one per vector lane, the same operations per lane (the same bits);
                // other devices: one work-item per row.
                boolean lanes = cl.info().type() == DeviceType.CPU;
                boolean hasLengths = in.size() > 3;
                if (lanes) {
                    int rows = (sq + 15) / 16 * 16;
                    ClTensor scratch = ctx.allocate(cl, TensorType.of(DType.FLOAT32, batch * a.heads() * rows * (skv + a.headDim())));
                    try (Kernel k = layers.kernel("attention_onnx_rows")) {
                        k.setArgs(((ClTensor) in.get(0)).buffer(), ((ClTensor) in.get(1)).buffer(), ((ClTensor) in.get(2)).buffer(), hasLengths ? ((ClTensor) in.get(3)).buffer() : noLengths, hasLengths ? 1 : 0, out.buffer(), scratch.buffer(), sq, skv, a.heads(), a.kvHeads(), a.headDim(), a.onnxDivisor());
                        ctx.launch(cl, k, new long[] {rows / 16, (long) batch * a.heads()}, new long[] {1, 1});
                    }
                    ctx.release(scratch);
                    return List.of(out);
                }
                ClTensor kt = ctx.allocate(cl, TensorType.of(DType.FLOAT32, batch * a.kvHeads() * a.headDim() * skv16));
                ClTensor scratch = ctx.allocate(cl, TensorType.of(DType.FLOAT32, batch * a.heads() * sq * skv16));
                try (Kernel k = layers.kernel("keys_to_columns")) {
                    k.setArgs(((ClTensor) in.get(1)).buffer(), kt.buffer(), skv, skv16, a.kvHeads(), a.headDim());
                    ctx.launch(cl, k, new long[] {skv16, (long) batch * a.kvHeads()}, null);
                }
                try (Kernel k = layers.kernel("attention_onnx")) {
                    k.setArgs(((ClTensor) in.get(0)).buffer(), kt.buffer(), ((ClTensor) in.get(2)).buffer(), hasLengths ? ((ClTensor) in.get(3)).buffer() : noLengths, hasLengths ? 1 : 0, out.buffer(), scratch.buffer(), sq, skv, skv16, a.heads(), a.kvHeads(), a.headDim(), a.onnxDivisor());
                    ctx.launch(cl, k, new long[] {sq, (long) batch * a.heads()}, null);
                }
                ctx.release(kt);
                ctx.release(scratch);
                return List.of(out);
            }

            @Override public void close() { noLengths.close(); }
        };
    }
}
