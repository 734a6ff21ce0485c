package dev.offload.runtime;

import dev.offload.ops.gemm.Activation;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.Add;
import dev.offload.graph.Attention;
import dev.offload.graph.Dequantize;
import dev.offload.graph.Embedding;
import dev.offload.graph.FloatLinear;
import dev.offload.graph.Gelu;
import dev.offload.graph.Graph;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.MeanPool;
import dev.offload.graph.Node;
import dev.offload.graph.Quantize;
import dev.offload.graph.RmsNorm;
import dev.offload.graph.SiluGate;
import dev.offload.graph.SparseLinear;
import dev.offload.graph.TensorType;
import dev.offload.tensor.DType;
import java.util.List;

/** Every op on the java device, through the reference classes. The judge of every OpenCL result, and the last fallback. */
public final class JavaImplementation implements OpImplementation {
    public static final JavaImplementation INSTANCE = new JavaImplementation();

    private JavaImplementation() {}

    private static HostTensor host(List<DeviceTensor> in, int i) { return (HostTensor) in.get(i); }

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        List<TensorType> outTypes = graph.outputTypes(node);
        TensorType out = outTypes.getFirst();
        return switch (node.op()) {
            case Int8Linear l -> int8Linear(l.weight(), l.weightZeroPoints(), l.weightScales(), l.bias(), l.activation(),
                    l.inFeatures(), l.outFeatures(), out);
            case SparseLinear s -> int8Linear(s.weight(), null, s.weightScales(), s.bias(), s.activation(),
                    s.inFeatures(), s.outFeatures(), out);
            case FloatLinear f -> (in, ctx) -> List.of(HostTensor.of(out, LinearReference.floatLinear(host(in, 0).floats(),
                    f.weight(), f.bias(), f.activation(), out.rows(), f.inFeatures(), f.outFeatures())));
            case Attention a -> (in, ctx) -> {
                TensorType q = in.get(0).type(), k = in.get(1).type();
                int[] lengths = in.size() > 3 ? host(in, 3).ints() : null;
                float[] keys = host(in, 1).floats(), values = host(in, 2).floats();
                int skv = k.dim(1);
                if (a.causal() && ctx.kvCache() != null) {
                    // Decode: this step's K/V join the cache and the query attends over everything cached.
                    float[][] all = ctx.kvCache().appendHost(node.name(), q.dim(0), k.last(), keys, values, k.dim(1));
                    keys = all[0];
                    values = all[1];
                    skv = keys.length / (q.dim(0) * k.last());
                }
                return List.of(HostTensor.of(out, AttentionReference.run(a, host(in, 0).floats(), keys, values, lengths,
                        q.dim(0), q.dim(1), skv)));
            };
            case LayerNorm n -> (in, ctx) -> List.of(HostTensor.of(out, n.onnxRuntime()
                    ? LayersReference.layerNormOnnx(host(in, 0).floats(), out.last(), n.gamma(), n.beta(), n.epsilon())
                    : LayersReference.layerNorm(host(in, 0).floats(), out.last(), n.gamma(), n.beta(), n.epsilon())));
            case RmsNorm n -> (in, ctx) -> List.of(HostTensor.of(out,
                    LayersReference.rmsNorm(host(in, 0).floats(), out.last(), n.gamma(), n.epsilon())));
            case Gelu g -> (in, ctx) -> List.of(HostTensor.of(out, LayersReference.gelu(host(in, 0).floats(), g.tanhApproximation())));
            case SiluGate s -> (in, ctx) -> List.of(HostTensor.of(out, LayersReference.siluGate(host(in, 0).floats(), host(in, 1).floats())));
            case Add a -> (in, ctx) -> List.of(HostTensor.of(out, LayersReference.add(host(in, 0).floats(), host(in, 1).floats())));
            case Quantize q -> (in, ctx) -> {
                float[] x = host(in, 0).floats();
                TensorType xt = in.get(0).type();
                QuantizeReference.Quantized r = switch (q.mode()) {
                    case PER_TENSOR_UINT8 -> QuantizeReference.perTensorUint8(x);
                    case PER_ROW_INT8 -> QuantizeReference.perRowInt8(x, xt.last());
                    case PER_SENTENCE_UINT8 -> QuantizeReference.perSentenceUint8(x, xt.dim(0), xt.dim(1), xt.last(), host(in, 1).ints());
                };
                return List.of(HostTensor.of(outTypes.get(0), r.data()), HostTensor.of(outTypes.get(1), r.scales()),
                        HostTensor.of(outTypes.get(2), r.zeroPoints()));
            };
            case Dequantize d -> (in, ctx) -> List.of(HostTensor.of(out, LayersReference.dequantize(host(in, 0).bytes(),
                    in.get(0).type().dtype() == DType.UINT8, out.last(), host(in, 1).floats(), host(in, 2).ints())));
            case Embedding e -> (in, ctx) -> List.of(HostTensor.of(out, LayersReference.embedding(host(in, 0).ints(),
                    in.get(0).type().dim(1), e.dim(), e.table(), e.int8Table(), e.rowScales(),
                    e.index() == Embedding.Index.POSITION, e.positionOffset())));
            case MeanPool p -> (in, ctx) -> {
                TensorType x = in.get(0).type();
                return List.of(HostTensor.of(out, LayersReference.meanPool(host(in, 0).floats(), x.dim(0), x.dim(1), x.dim(2),
                        in.size() > 1 ? host(in, 1).ints() : null)));
            };
        };
    }

    private static Prepared int8Linear(byte[] weight, byte[] zps, float[] scales, float[] bias,
                                       Activation act, int k, int n, TensorType out) {
        int[] w = LinearReference.widen(weight, zps, n);
        return (in, ctx) -> {
            HostTensor a = host(in, 0);
            int m = a.type().rows();
            int[] acc = LinearReference.accumulate(a.bytes(), a.type().dtype() == DType.UINT8, host(in, 2).ints(), w, m, k, n);
            return List.of(HostTensor.of(out, LinearReference.epilogue(acc, m, n, host(in, 1).floats(), scales, bias, act)));
        };
    }
}
