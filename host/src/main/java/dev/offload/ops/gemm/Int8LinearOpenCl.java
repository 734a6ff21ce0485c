package dev.offload.ops.gemm;

import dev.offload.cl.Buffer;
import dev.offload.device.ComputeDevice;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.Int8LinearGroup;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.TensorType;
import dev.offload.ops.quant.QuantType;
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
 * The graph's {@link Int8Linear} on OpenCL through {@link Int8Gemm} (dev.offload.ops.gemm) with its fused
 * dequantize epilogue: y = act(acc * (scaleA * scaleW[n]) + bias[n]). The weight is packed once per device and
 * shared by every node that reads it ({@link ResidentWeights}); at run time the activation's (data, scales, zero
 * points) triple, which a quantize node left on this device, goes to the kernel as buffers, so nothing crosses to
 * the host and nothing waits. An {@link Int8LinearGroup} (Q, K and V) is one launch where the device's GEMM has a group
 * form, each output the bits its part alone gives. Judge: {@link LinearJava} ({@link Int8GemmReference#int8Linear}).
 */
public final class Int8LinearOpenCl implements OpImplementation {
    public static final Int8LinearOpenCl INSTANCE = new Int8LinearOpenCl(DeviceGemmConfigs.standard());
    public static final Set<Class<? extends Op>> OPS = Set.of(Int8Linear.class, Int8LinearGroup.class);

    private final DeviceGemmConfigs configs;

    /** @param configs where each device's GEMM configuration comes from (resolved once per device) */
    public Int8LinearOpenCl(DeviceGemmConfigs configs) { this.configs = configs; }

    @Override
    public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
        OpenClDevice cl = (OpenClDevice) device;
        Int8Gemm gemm = Int8Gemm.on(cl, configs);
        List<TensorType> outTypes = graph.outputTypes(node);
        ResidentWeights.Holder held = weights.holder(cl);
        try {
            return switch (node.op()) {
                case Int8Linear l -> {
                    Part p = part(gemm, held, l);
                    yield new Weights(gemm, p.packed, p.scales, p.bias, l.activation(), outTypes.getFirst(), held);
                }
                case Int8LinearGroup g -> {
                    List<Part> parts = new ArrayList<>();
                    for (Int8Linear l : g.parts()) parts.add(part(gemm, held, l));
                    yield new Group(gemm, parts, g.parts().getFirst().activation(), outTypes, held);
                }
                default -> throw new IllegalArgumentException("the int8 linear family does not implement " + node.opKind() + " (node " + node.name() + ")");
            };
        } catch (RuntimeException e) {
            held.close();
            throw e;
        }
    }

    /** One linear's weights on the device: packed B (shared through {@link ResidentWeights}), scales and bias. */
    private record Part(PackedWeights packed, Buffer scales, Buffer bias) {}

    private static Part part(Int8Gemm gemm, ResidentWeights.Holder held, Int8Linear l) {
        ZeroPoint zb = l.weightZeroPoints() == null ? ZeroPoint.scalar(0) : ZeroPoint.perColumn(ints(l.weightZeroPoints()));
        PackedWeights w = held.packed(gemm, new Int8Matrix(QuantType.INT8, l.inFeatures(), l.outFeatures(), l.weight()), zb);
        return new Part(w, held.upload(l.weightScales()), l.bias() == null ? null : held.upload(l.bias()));
    }

    /** A quantize node's (data, scales, zero points) triple as the GEMM reads it. */
    private static Int8Gemm.DeviceActivation quantizedInput(List<DeviceTensor> in) {
        ClTensor a = (ClTensor) in.get(0), sa = (ClTensor) in.get(1), za = (ClTensor) in.get(2);
        QuantType type = a.type().dtype() == DType.UINT8 ? QuantType.UINT8 : QuantType.INT8;
        return new Int8Gemm.DeviceActivation(a.buffer(), type, a.type().rows(), sa.buffer(), za.buffer(), sa.type().dim(0) != 1);
    }

    private static int[] ints(byte[] b) {
        int[] v = new int[b.length];
        for (int i = 0; i < b.length; i++) v[i] = b[i];
        return v;
    }

    /** One node's weights on one device and the GEMM that reads them. */
    private record Weights(Int8Gemm gemm, PackedWeights packed, Buffer scales, Buffer bias, Activation activation,
                           TensorType outType, ResidentWeights.Holder held) implements Prepared {
        @Override
        public List<DeviceTensor> run(List<DeviceTensor> in, RunContext ctx) {
            OpenClDevice cl = gemm.device();
            Int8Gemm.DeviceActivation a = quantizedInput(in);
            ClTensor out = ctx.allocate(cl, outType);
            ClTensor rowSums = packed.needsRowSums() ? ctx.allocate(cl, TensorType.of(DType.INT32, a.rows())) : null;
            KernelLauncher launcher = (k, global, local) -> ctx.launch(cl, k, global, local);
            gemm.enqueueDequantize(a, packed, scales, bias, activation, out.buffer(), rowSums == null ? null : rowSums.buffer(), launcher);
            if (rowSums != null) ctx.release(rowSums);
            return List.of(out);
        }

        @Override
        public void close() { held.close(); }
    }

    /** A group's weights on one device: one launch where the GEMM has a group form ({@link Int8Gemm#enqueueDequantizeGroup}). */
    private record Group(Int8Gemm gemm, List<Part> parts, Activation activation, List<TensorType> outTypes,
                         ResidentWeights.Holder held) implements Prepared {
        @Override
        public List<DeviceTensor> run(List<DeviceTensor> in, RunContext ctx) {
            OpenClDevice cl = gemm.device();
            Int8Gemm.DeviceActivation a = quantizedInput(in);
            List<DeviceTensor> outs = new ArrayList<>();
            List<Int8Gemm.GroupPart> groupParts = new ArrayList<>();
            boolean rowSumsNeeded = false;
            for (int i = 0; i < parts.size(); i++) {
                ClTensor out = ctx.allocate(cl, outTypes.get(i));
                outs.add(out);
                Part p = parts.get(i);
                groupParts.add(new Int8Gemm.GroupPart(p.packed(), p.scales(), p.bias(), out.buffer()));
                rowSumsNeeded |= p.packed().needsRowSums();
            }
            ClTensor rowSums = rowSumsNeeded ? ctx.allocate(cl, TensorType.of(DType.INT32, a.rows())) : null;
            gemm.enqueueDequantizeGroup(a, groupParts, activation, rowSums == null ? null : rowSums.buffer(),
                    (k, global, local) -> ctx.launch(cl, k, global, local));
            if (rowSums != null) ctx.release(rowSums);
            return outs;
        }

        @Override
        public void close() { held.close(); }
    }
}
