package dev.offload.ops.layers;

import dev.offload.cl.Buffer;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.ComputeDevice;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Add;
import dev.offload.graph.Embedding;
import dev.offload.graph.Gelu;
import dev.offload.graph.Graph;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.LayerNormQuantize;
import dev.offload.graph.MeanPool;
import dev.offload.graph.LastToken;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.QueryKeyRope;
import dev.offload.graph.RmsNorm;
import dev.offload.graph.RmsNormBlockQuantize;
import dev.offload.graph.RotaryEmbedding;
import dev.offload.graph.SiluGate;
import dev.offload.graph.SiluGateBlockQuantize;
import dev.offload.graph.GeluGateBlockQuantize;
import dev.offload.graph.TensorType;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.quant.Quantize;
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
 * The ops of {@code layers.cl} on an OpenCL device: layer_norm (of x, or of x + residual in the same launch; also
 * followed by a per-sentence quantize, in one launch where that keeps the cores busy), rms_norm, gelu, silu_gate, add, embedding, pool, rope (alone, or of queries and keys in one launch), last_token,
 * and rms_norm and silu_gate fused with per-block int8 quantization
 * (judge: {@link LayersReference}). Weights (norm gains, embedding tables) are taken from the shared
 * {@link ResidentWeights} in {@link #prepare}; every run makes its own kernel object (kernels are not thread-safe)
 * and enqueues without waiting.
 */
public final class LayersOpenCl implements OpImplementation {
    public static final LayersOpenCl INSTANCE = new LayersOpenCl();
    public static final Set<Class<? extends Op>> OPS = LayersJava.OPS;

    private LayersOpenCl() {}

    private static Buffer buf(List<DeviceTensor> in, int i) { return ((ClTensor) in.get(i)).buffer(); }

    /** Weights of one prepared node on one device, released with it. */
    private record Weights(List<Buffer> buffers, ResidentWeights.Holder held) implements AutoCloseable {
        Buffer get(int i) { return buffers.get(i); }

        @Override public void close() { held.close(); }
    }

    private interface Launch {
        List<DeviceTensor> run(Program p, List<DeviceTensor> in, RunContext ctx);
    }

    private static OpImplementation.Prepared prepared(Program program, Weights w, Launch launch) {
        return new OpImplementation.Prepared() {
            @Override public List<DeviceTensor> run(List<DeviceTensor> in, RunContext ctx) { return launch.run(program, in, ctx); }

            @Override public void close() { w.close(); }
        };
    }

    private static long[] size(long n) { return new long[] {n}; }

    private static KernelLauncher launcher(OpenClDevice cl, RunContext ctx) { return (k, global, local) -> ctx.launch(cl, k, global, local); }

    /**
     * The build options of layers.cl's one program (before the device's style define): correctly rounded division and
     * sqrt, which GELU-erf needs to give Java's bits and the ONNX Runtime kernel (layer_norm_onnx) needs to round as
     * ONNX Runtime does, on every device.
     */
    public static String buildOptions() { return "-cl-fp32-correctly-rounded-divide-sqrt"; }

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        OpenClDevice cl = (OpenClDevice) device;
        Program program = cl.program(KernelFamily.LAYERS, buildOptions());   // a build failure surfaces here, before any run
        List<TensorType> outs = graph.outputTypes(node);
        TensorType out = outs.getFirst();
        List<Buffer> uploaded = new ArrayList<>();
        ResidentWeights.Holder held = weights.holder(cl);
        try {
            return switch (node.op()) {
                case LayerNorm n -> {
                    Weights w = normWeights(n, uploaded, held);
                    yield prepared(program, w, (p, in, ctx) -> {
                        ClTensor y = ctx.allocate(cl, out);
                        layerNorm(cl, p, ctx, n, w, in, in.size() == 2, y, out);
                        return List.of(y);
                    });
                }
                case LayerNormQuantize n -> {
                    Weights w = normWeights(n.norm(), uploaded, held);
                    Quantize quantize = new Quantize(cl);
                    yield prepared(program, w, (p, in, ctx) -> {
                        List<DeviceTensor> y = allocateAll(cl, ctx, outs);
                        boolean residual = LayerNormQuantize.hasResidual(in);
                        Buffer lengths = buf(in, in.size() - 1);
                        Quantize.Groups groups = new Quantize.Groups(out.dim(0), out.dim(1), out.last(), lengths);
                        if (quantize.inOneLaunch(groups)) {
                            EncoderKernels.layerNormQuantize(p, launcher(cl, ctx), rounding(n.norm()), buf(in, 0), residual ? buf(in, 1) : null,
                                    w.get(0), beta(n.norm(), w), buf(y, 0), groups.groups(), groups.rowsPerGroup(), groups.cols(),
                                    n.norm().epsilon(), lengths, buf(y, 1), buf(y, 2), buf(y, 3));
                        } else {
                            // Big sentences: the norm's work-item per row, then the quantize's two stages spread over the cores.
                            layerNorm(cl, p, ctx, n.norm(), w, in, residual, (ClTensor) y.get(0), out);
                            ClTensor partial = ctx.allocate(cl, TensorType.of(DType.FLOAT32, (int) (Quantize.groupScratchBytes(groups) / 4)));
                            ClTensor gs = ctx.allocate(cl, TensorType.of(DType.FLOAT32, groups.groups()));
                            ClTensor gz = ctx.allocate(cl, TensorType.of(DType.INT32, groups.groups()));
                            quantize.enqueueGroups(buf(y, 0), groups, buf(y, 1), gs.buffer(), gz.buffer(), buf(y, 2), buf(y, 3),
                                    partial.buffer(), launcher(cl, ctx));
                            ctx.release(partial);
                            ctx.release(gs);
                            ctx.release(gz);
                        }
                        return y;
                    });
                }
                case RmsNorm n -> {
                    uploaded.add(held.upload(n.gamma()));
                    Weights w = new Weights(uploaded, held);
                    yield prepared(program, w, (p, in, ctx) -> {
                        ClTensor y = ctx.allocate(cl, out);
                        int rows = Math.toIntExact(n.normRows(out));
                        DecoderKernels.rmsNorm(p, launcher(cl, ctx), cl.rowsLocalSize(rows), buf(in, 0), w.get(0), y.buffer(),
                                rows, n.gamma().length, n.epsilon());
                        return List.of(y);
                    });
                }
                case RmsNormBlockQuantize n -> {
                    uploaded.add(held.upload(n.gamma()));
                    Weights w = new Weights(uploaded, held);
                    yield prepared(program, w, (p, in, ctx) -> {
                        List<DeviceTensor> q = allocateAll(cl, ctx, outs);
                        DecoderKernels.rmsNormBlockInt8(p, launcher(cl, ctx), cl.rowsLocalSize(out.rows()), buf(in, 0), w.get(0), out.rows(),
                                out.last(), n.epsilon(), buf(q, 0), buf(q, 1), buf(q, 2));
                        return q;
                    });
                }
                case SiluGateBlockQuantize _, GeluGateBlockQuantize _ -> prepared(program, new Weights(uploaded, held), (p, in, ctx) -> {
                    List<DeviceTensor> q = allocateAll(cl, ctx, outs);
                    int n = (int) out.elements();
                    DecoderKernels.Gate gate = node.op() instanceof GeluGateBlockQuantize ? DecoderKernels.Gate.GELU_TANH : DecoderKernels.Gate.SILU;
                    DecoderKernels.gateBlockInt8(p, gate, launcher(cl, ctx), cl.rowsLocalSize(n / 32), buf(in, 0), buf(in, 1), n,
                            buf(q, 0), buf(q, 1), buf(q, 2));
                    return q;
                });
                case RotaryEmbedding r -> {
                    uploaded.add(held.upload(r.cos()));
                    uploaded.add(held.upload(r.sin()));
                    Weights w = new Weights(uploaded, held);
                    yield prepared(program, w, (p, in, ctx) -> {
                        ClTensor y = ctx.allocate(cl, out);
                        DecoderKernels.rope(p, launcher(cl, ctx), r, buf(in, 0), buf(in, 1), w.get(0), w.get(1), y.buffer(),
                                out.dim(0) * out.dim(1));
                        return List.of(y);
                    });
                }
                case QueryKeyRope r -> {
                    uploaded.add(held.upload(r.query().cos()));
                    uploaded.add(held.upload(r.query().sin()));
                    Weights w = new Weights(uploaded, held);
                    yield prepared(program, w, (p, in, ctx) -> {
                        List<DeviceTensor> y = allocateAll(cl, ctx, outs);
                        DecoderKernels.ropeQueryKey(p, launcher(cl, ctx), r.query(), r.key(), buf(in, 0), buf(in, 1), buf(in, 2), w.get(0), w.get(1),
                                buf(y, 0), buf(y, 1), out.dim(0) * out.dim(1));
                        return y;
                    });
                }
                case LastToken l -> prepared(program, new Weights(uploaded, held), (p, in, ctx) -> {
                    ClTensor y = ctx.allocate(cl, out);
                    TensorType x = in.get(0).type();
                    DecoderKernels.lastToken(p, launcher(cl, ctx), buf(in, 0), y.buffer(), x.dim(0), x.dim(1), x.dim(2));
                    return List.of(y);
                });
                case Add a -> prepared(program, new Weights(uploaded, held), (p, in, ctx) -> binary(cl, p, "add", in, out, ctx));
                case SiluGate s -> prepared(program, new Weights(uploaded, held), (p, in, ctx) -> {
                    ClTensor y = ctx.allocate(cl, out);
                    DecoderKernels.siluGate(p, launcher(cl, ctx), buf(in, 0), buf(in, 1), y.buffer(), (int) out.elements());
                    return List.of(y);
                });
                case Gelu g -> prepared(program, new Weights(uploaded, held), (p, in, ctx) -> {
                    ClTensor y = ctx.allocate(cl, out);
                    try (Kernel k = p.kernel(g.tanhApproximation() ? "gelu_tanh" : "gelu_erf")) {
                        k.setArgs(buf(in, 0), y.buffer(), (int) out.elements());
                        ctx.launch(cl, k, size(out.elements()), null);
                    }
                    return List.of(y);
                });
                case Embedding e -> {
                    if (e.quantized()) {
                        uploaded.add(held.upload(e.int8Table()));
                        uploaded.add(held.upload(e.rowScales()));
                    } else {
                        uploaded.add(held.upload(e.table()));
                    }
                    Weights w = new Weights(uploaded, held);
                    yield prepared(program, w, (p, in, ctx) -> {
                        ClTensor y = ctx.allocate(cl, out);
                        TensorType ids = in.get(0).type();
                        int tokens = (int) ids.elements();
                        try (Kernel k = p.kernel(e.quantized() ? "embedding_i8" : "embedding_f32")) {
                            // embedding_i8 takes the row scales after the table.
                            List<Buffer> table = e.quantized() ? List.of(w.get(0), w.get(1)) : List.of(w.get(0));
                            k.setArgs(buf(in, 0), table, y.buffer(), tokens, ids.dim(1), e.dim(),
                                    e.index() == Embedding.Index.POSITION ? 1 : 0, e.positionOffset());
                            ctx.launch(cl, k, size(tokens), cl.rowsLocalSize(tokens));
                        }
                        return List.of(y);
                    });
                }
                case MeanPool m -> {
                    uploaded.add(held.placeholder());   // stands in for absent lengths: a kernel argument cannot be null
                    Weights w = new Weights(uploaded, held);
                    yield prepared(program, w, (p, in, ctx) -> {
                        ClTensor y = ctx.allocate(cl, out);
                        TensorType x = in.get(0).type();
                        try (Kernel k = p.kernel("mean_pool")) {
                            k.setArgs(buf(in, 0), in.size() > 1 ? buf(in, 1) : w.get(0), y.buffer(), x.dim(1), x.dim(2), in.size() > 1 ? 1 : 0);
                            ctx.launch(cl, k, new long[] {x.dim(2), x.dim(0)}, null);
                        }
                        return List.of(y);
                    });
                }
                default -> throw new IllegalArgumentException("layers.cl has no kernel for " + node.opKind() + " (node " + node.name() + ")");
            };
        } catch (RuntimeException e) {
            held.close();
            throw e;
        }
    }

    /** A layer norm's gamma and beta (or a placeholder for an absent beta) on the device. */
    private static Weights normWeights(LayerNorm n, List<Buffer> uploaded, ResidentWeights.Holder held) {
        uploaded.add(held.upload(n.gamma()));
        uploaded.add(n.beta() != null ? held.upload(n.beta()) : held.placeholder());
        return new Weights(uploaded, held);
    }

    private static Buffer beta(LayerNorm n, Weights w) { return n.beta() != null ? w.get(1) : null; }

    private static EncoderKernels.Rounding rounding(LayerNorm n) {
        return n.onnxRuntime() ? EncoderKernels.Rounding.ONNX_RUNTIME : EncoderKernels.Rounding.OWN;
    }

    /** Enqueues the norm of input 0 (plus input 1 with a residual) into y, a work-item per row. */
    private static void layerNorm(OpenClDevice cl, Program p, RunContext ctx, LayerNorm n, Weights w, List<DeviceTensor> in,
                                  boolean residual, ClTensor y, TensorType out) {
        EncoderKernels.layerNorm(p, launcher(cl, ctx), cl.rowsLocalSize(out.rows()), rounding(n), buf(in, 0), residual ? buf(in, 1) : null,
                w.get(0), beta(n, w), y.buffer(), out.rows(), out.last(), n.epsilon());
    }

    private static List<DeviceTensor> allocateAll(OpenClDevice cl, RunContext ctx, List<TensorType> types) {
        List<DeviceTensor> out = new ArrayList<>();
        for (TensorType t : types) out.add(ctx.allocate(cl, t));
        return out;
    }

    private static List<DeviceTensor> binary(OpenClDevice cl, Program p, String kernel, List<DeviceTensor> in,
                                             TensorType out, RunContext ctx) {
        ClTensor y = ctx.allocate(cl, out);
        try (Kernel k = p.kernel(kernel)) {
            k.setArgs(buf(in, 0), buf(in, 1), y.buffer(), (int) out.elements());
            ctx.launch(cl, k, size(out.elements()), null);
        }
        return List.of(y);
    }
}
