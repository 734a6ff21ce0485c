package dev.offload.ops.sparse;

import dev.offload.cl.Buffer;
import dev.offload.device.ComputeDevice;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.SparseFormat;
import dev.offload.graph.SparseLinear;
import dev.offload.graph.TensorType;
import dev.offload.ops.gemm.Activation;
import dev.offload.runtime.ClTensor;
import dev.offload.runtime.DeviceTensor;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.ResidentWeights;
import dev.offload.runtime.RunContext;
import dev.offload.tensor.DType;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The graph's {@link SparseLinear} on OpenCL through the token-major sparse linear kernels with the dequantize
 * epilogue fused: {@code sparse_linear_csr} and {@code sparse_linear_24} (spmm.cl) for CSR and 2:4 weights,
 * {@link BsrLinear}'s block-sparse VNNI kernel (bsr_linear.cl) for BSR ones. Spmm computes Y = S x B with S the sparse
 * operand; a graph linear is y = x W with W [K, N], so S = W^T [N, K], transposed and converted once when the weight
 * is uploaded ({@link Spmm#uploadLinearWeight}); activations stay token-major. A BSR format whose blocks are not
 * whole 16 x 4 kernel blocks (e.g. bsr:4x4) is stored in the kernel's blocks with the zeros that complete them: a
 * note says so once.
 */
public final class SparseLinearOpenCl implements OpImplementation {
    public static final SparseLinearOpenCl INSTANCE = new SparseLinearOpenCl();
    public static final Set<Class<? extends Op>> OPS = Set.of(SparseLinear.class);
    private static final Logger log = LoggerFactory.getLogger(SparseLinearOpenCl.class);
    private static final Set<String> noted = ConcurrentHashMap.newKeySet();

    private SparseLinearOpenCl() {}

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        OpenClDevice cl = (OpenClDevice) device;
        SparseLinear l = (SparseLinear) node.op();
        SparseFormat f = l.format();
        if (f.kind() == SparseFormat.Kind.BSR && (f.blockRows() % 16 != 0 || f.blockCols() % BsrLinear.BLOCK_K != 0)
                && noted.add(f.toString())) {
            log.info("sparse linear layers in {} run in the block-sparse kernel's {}x{} blocks (with the zeros that complete them)",
                    f, BsrLinear.blockRows(f), BsrLinear.BLOCK_K);
        }
        Spmm spmm = new Spmm(cl);
        ResidentWeights.Holder held = weights.holder(cl);
        try {
            Spmm.DeviceMatrix w = held.sparse(spmm, l.weight(), l.inFeatures(), l.outFeatures(), f);
            Buffer scales = held.upload(l.weightScales());
            Buffer bias = l.bias() == null ? null : held.upload(l.bias());
            return new Weights(spmm, w, scales, bias, l.activation(), graph.outputTypes(node).getFirst(), held);
        } catch (RuntimeException e) {
            held.close();
            throw e;
        }
    }

    private record Weights(Spmm spmm, Spmm.DeviceMatrix weight, Buffer scales, Buffer bias, Activation activation,
                           TensorType outType, ResidentWeights.Holder held) implements Prepared {
        @Override
        public List<DeviceTensor> run(List<DeviceTensor> in, RunContext ctx) {
            OpenClDevice cl = spmm.device();
            ClTensor a = (ClTensor) in.get(0), sa = (ClTensor) in.get(1), za = (ClTensor) in.get(2);
            ClTensor out = ctx.allocate(cl, outType);
            KernelLauncher launcher = (k, global, local) -> ctx.launch(cl, k, global, local);
            spmm.enqueueLinear(weight, new Spmm.Activations(a.buffer(), a.type().dtype() == DType.UINT8, a.type().rows(),
                    sa.buffer(), za.buffer(), sa.type().dim(0) != 1), scales, bias, activation, out.buffer(), launcher);
            return List.of(out);
        }

        @Override
        public void close() { held.close(); }
    }
}
