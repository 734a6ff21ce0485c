package dev.offload.ops.attention;

import dev.offload.cl.Buffer;
import dev.offload.device.ComputeDevice;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Attention;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.TensorType;
import dev.offload.runtime.ClTensor;
import dev.offload.runtime.DeviceTensor;
import dev.offload.runtime.KvCache;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import dev.offload.runtime.RunContext;
import dev.offload.tensor.DType;
import java.util.List;
import java.util.Set;

/**
 * The graph's {@link Attention} on OpenCL through {@link FusedAttention}, which reads q, k, v in the graph's
 * token-major [B, S, H*D] layout and writes the output in it ({@link AttentionProblem.Layout#TOKEN_MAJOR}): no
 * transposes around the kernel. Key lengths are the kernel's key-padding mask and stay on the device. Judge:
 * {@link AttentionJava} ({@link AttentionReference}).
 *
 * <p>Under a {@link KvCache} (decode), a causal node first appends its new keys and values to its cache buffers on this
 * device and attends over all cached tokens; the bottom-right aligned causal mask lets query i see keys
 * {@code j <= i + Skv - Sq}.
 *
 * <p>An {@link Attention#onnxRuntime} op (imported models) runs {@link OnnxAttention} instead, which rounds as
 * ONNX Runtime does (so the next quantization sees ONNX Runtime's values). Neither waits: the kernels are enqueued
 * like every other command of the run.
 */
public final class AttentionOpenCl implements OpImplementation {
    public static final AttentionOpenCl INSTANCE = new AttentionOpenCl();
    public static final Set<Class<? extends Op>> OPS = Set.of(Attention.class);

    private AttentionOpenCl() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        OpenClDevice cl = (OpenClDevice) device;
        Attention a = (Attention) node.op();
        TensorType q = graph.tensor(node.inputs().get(0)).type(), k = graph.tensor(node.inputs().get(1)).type();
        int batch = q.dim(0), sq = q.dim(1), kvWidth = a.kvHeads() * a.headDim();
        if (!a.onnxRuntime() && (a.headDim() % 4 != 0 || a.headDim() > AttentionShape.MAX_HEAD_DIM)) {
            // The fused kernels keep a head in registers; the java device has no such limit.
            throw new Unsupported("head dimension " + a.headDim() + " (the attention kernels take multiples of 4 up to "
                    + AttentionShape.MAX_HEAD_DIM + ")");
        }
        if (a.onnxRuntime()) {
            return onnx(new OnnxAttention.Shape(batch, a.heads(), a.kvHeads(), a.headDim(), sq, k.dim(1), a.onnxDivisor()), cl, weights.holder(cl));
        }
        FusedAttention fused = new FusedAttention(cl);
        ResidentWeights.Holder held = weights.holder(cl);
        Buffer placeholder = held.placeholder();     // stands in for absent mask parts in every run, recorded or not
        boolean decodeStep = a.causal() && KvCache.isDecodeStep(q);
        return new Prepared() {
            @Override
            public List<DeviceTensor> run(List<DeviceTensor> in, RunContext ctx) {
                KvCache cache = a.causal() ? ctx.kvCache() : null;
                ClTensor out = ctx.allocate(cl, q);
                ScratchOfRun scratch = new ScratchOfRun(cl, ctx, placeholder);
                Buffer qb = ((ClTensor) in.get(0)).buffer();
                if (cache != null && decodeStep) {
                    // One token per sequence: the cache buffers whole (Skv = capacity), the position read on the device.
                    KvCache.DecodeStep step = cache.appendInKernel(node.name(), cl, ctx, batch, kvWidth);
                    AttentionShape shape = new AttentionShape(batch, a.heads(), a.kvHeads(), 1, step.capacity(), a.headDim());
                    fused.enqueueDecodeStep(problem(shape, a), qb, ((ClTensor) in.get(1)).buffer(), ((ClTensor) in.get(2)).buffer(),
                            step.keys(), step.values(), step.lengths(), out.buffer(), launcher(cl, ctx), scratch);
                    scratch.release();
                    return List.of(out);
                }
                DeviceTensor kNew = in.get(1), vNew = in.get(2);
                int skv = k.dim(1);
                KvCache.Gathered gathered = null;
                if (cache != null) {
                    gathered = cache.appendOnDevice(node.name(), cl, ctx, (ClTensor) kNew, (ClTensor) vNew, batch, k.dim(1), kvWidth);
                    kNew = gathered.keys();
                    vNew = gathered.values();
                    skv = kNew.type().dim(1);
                }
                AttentionShape shape = new AttentionShape(batch, a.heads(), a.kvHeads(), sq, skv, a.headDim());
                // Key-padding lengths stay on the device: the kernel reads them (and clamps them to [0, Skv]) itself.
                Buffer lengths = in.size() > 3 ? ((ClTensor) in.get(3)).buffer() : null;
                fused.enqueue(problem(shape, a), qb, ((ClTensor) kNew).buffer(), ((ClTensor) vNew).buffer(), out.buffer(), lengths,
                        launcher(cl, ctx), scratch);
                scratch.release();
                if (gathered != null && gathered.owned()) {
                    ctx.release(gathered.keys());
                    ctx.release(gathered.values());
                }
                return List.of(out);
            }

            @Override public void close() { held.close(); }
        };
    }

    private static AttentionProblem problem(AttentionShape shape, Attention a) {
        return AttentionProblem.of(shape).withMask(a.causal() ? Mask.causal(a.window()) : Mask.NONE).withScale(a.scale()).withSoftcap(a.softcap())
                .withLayout(AttentionProblem.Layout.TOKEN_MAJOR);
    }

    /** The run's buffers for the kernels' partials (released once the kernels are enqueued) and the mask stand-in. */
    private static final class ScratchOfRun implements FusedAttention.RunBuffers {
        private final OpenClDevice cl;
        private final RunContext ctx;
        private final Buffer placeholder;
        private final List<ClTensor> taken = new java.util.ArrayList<>();

        ScratchOfRun(OpenClDevice cl, RunContext ctx, Buffer placeholder) {
            this.cl = cl;
            this.ctx = ctx;
            this.placeholder = placeholder;
        }

        @Override
        public Buffer floats(long count) {
            ClTensor t = AttentionOpenCl.floats(ctx, cl, count);
            taken.add(t);
            return t.buffer();
        }

        @Override public Buffer placeholder() { return placeholder; }

        void release() {
            taken.forEach(ctx::release);
            taken.clear();
        }
    }

    private static KernelLauncher launcher(OpenClDevice cl, RunContext ctx) {
        return (kernel, global, local) -> ctx.launch(cl, kernel, global, local);
    }

    /** {@link Attention#onnxRuntime}: ONNX Runtime's arithmetic on the token-major q, k, v as they are. */
    private static Prepared onnx(OnnxAttention.Shape s, OpenClDevice cl, ResidentWeights.Holder held) {
        OnnxAttention attention = new OnnxAttention(cl);
        try {
            attention.program();                    // a build failure surfaces here, before any run
        } catch (RuntimeException e) {
            held.close();
            throw e;
        }
        Buffer noLengths = held.placeholder();      // stands in for absent lengths: a kernel argument cannot be null
        int skv16 = OnnxAttention.roundUp16(s.skv());
        return new Prepared() {
            @Override
            public List<DeviceTensor> run(List<DeviceTensor> in, RunContext ctx) {
                ClTensor out = ctx.allocate(cl, in.get(0).type());
                Buffer q = ((ClTensor) in.get(0)).buffer(), k = ((ClTensor) in.get(1)).buffer(), v = ((ClTensor) in.get(2)).buffer();
                boolean hasLengths = in.size() > 3;
                Buffer lengths = hasLengths ? ((ClTensor) in.get(3)).buffer() : noLengths;
                if (attention.rowLanes()) {
                    ClTensor scratch = floats(ctx, cl, (long) s.batch() * s.heads() * OnnxAttention.roundUp16(s.sq()) * (s.skv() + s.headDim()));
                    attention.enqueueRowLanes(s, q, k, v, lengths, hasLengths, out.buffer(), scratch.buffer(), launcher(cl, ctx));
                    ctx.release(scratch);
                    return List.of(out);
                }
                ClTensor keyColumns = floats(ctx, cl, (long) s.batch() * s.kvHeads() * s.headDim() * skv16);
                ClTensor scores = floats(ctx, cl, (long) s.batch() * s.heads() * s.sq() * skv16);
                attention.enqueueRows(s, q, k, v, lengths, hasLengths, out.buffer(), keyColumns.buffer(), scores.buffer(), launcher(cl, ctx));
                ctx.release(keyColumns);
                ctx.release(scores);
                return List.of(out);
            }

            @Override public void close() { held.close(); }
        };
    }

    private static ClTensor floats(RunContext ctx, OpenClDevice cl, long n) {
        return ctx.allocate(cl, TensorType.of(DType.FLOAT32, Math.toIntExact(n)));
    }
}
