package dev.offload.compress;

import com.google.protobuf.ByteString;
import dev.offload.model.FactorizedLinear;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites, in an ONNX graph, each int8 linear that low-rank compression factorized into two int8 linears in a row,
 * each in the node pattern ONNX Runtime's dynamic quantizer writes for one linear:
 * <pre>
 * before: DynamicQuantizeLinear(x) -> MatMulInteger(W) -> Cast -> Mul(x_scale * w_scale) = y -> Add(bias)
 * after:  DynamicQuantizeLinear(x) -> MatMulInteger(A) -> Cast -> Mul(x_scale * a_scale) = y
 *         -> DynamicQuantizeLinear(y) -> MatMulInteger(B) -> Cast -> Mul(y_scale * b_scale) -> Add(bias)
 * </pre>
 * The first product reuses the layer's nodes with A's initializers in place of W's; the second's nodes are copies of
 * them (same attributes) on new values, inserted right after the first, so the graph stays topologically sorted.
 * ONNX Runtime runs the result as it is, and offload's importer recognizes the two products as one
 * {@link FactorizedLinear} (dev.offload.model.onnx.LayerPatterns). Initializers no longer used (W, its scale and zero
 * point) are dropped, and so is any value_info of y, whose width is now the rank.
 */
final class FactorizedOnnx {
    private FactorizedOnnx() {}

    /** Rewrites {@code g} for every factorized linear, keyed by the name of the original weight's initializer. */
    static void rewrite(GraphProto.Builder g, Map<String, FactorizedLinear> byWeight, String source) {
        Set<String> initializers = new HashSet<>();
        for (TensorProto t : g.getInitializerList()) initializers.add(t.getName());
        Set<String> usedBefore = referenced(g.getNodeList());
        List<NodeProto> nodes = new ArrayList<>(g.getNodeList());
        Set<String> resized = new HashSet<>();
        for (var e : byWeight.entrySet()) {
            String w = e.getKey();
            FactorizedLinear f = e.getValue();
            int mm = only(nodes, n -> n.getOpType().equals("MatMulInteger") && n.getInputCount() > 1 && n.getInput(1).equals(w), source, "MatMulInteger reading " + w);
            NodeProto mmi = nodes.get(mm);
            NodeProto quantize = nodes.get(only(nodes, n -> n.getOpType().equals("DynamicQuantizeLinear") && n.getOutputList().contains(mmi.getInput(0)), source,
                    "DynamicQuantizeLinear producing " + mmi.getInput(0)));
            int c = only(nodes, n -> n.getOpType().equals("Cast") && n.getInput(0).equals(mmi.getOutput(0)), source, "the Cast of " + mmi.getOutput(0));
            NodeProto cast = nodes.get(c);
            int om = only(nodes, n -> n.getOpType().equals("Mul") && n.getInputList().contains(cast.getOutput(0)), source, "the scale Mul of " + cast.getOutput(0));
            NodeProto outMul = nodes.get(om);
            String scalesValue = outMul.getInput(outMul.getInput(0).equals(cast.getOutput(0)) ? 1 : 0);
            int sm = only(nodes, n -> n.getOpType().equals("Mul") && n.getOutput(0).equals(scalesValue), source, "the producer of " + scalesValue);
            NodeProto scales = nodes.get(sm);
            int wsSide = initializers.contains(scales.getInput(1)) ? 1 : initializers.contains(scales.getInput(0)) ? 0 : -1;
            if (wsSide < 0) throw new IllegalArgumentException(source + ": " + scales.getName() + " multiplies no weight-scale initializer");

            String p = mmi.getName().isEmpty() ? w : mmi.getName();
            String y = outMul.getOutput(0), y2 = p + "_lowrank_b_output";
            QuantizedLinear a = f.first(), b = f.second();
            String aW = p + "_lowrank_a_quantized", aS = p + "_lowrank_a_scale", aZ = p + "_lowrank_a_zero_point";
            String bW = p + "_lowrank_b_quantized", bS = p + "_lowrank_b_scale", bZ = p + "_lowrank_b_zero_point";
            g.addInitializer(int8(aW, a.weight(), a.inputs(), a.outputs())).addInitializer(floats(aS, a.scale())).addInitializer(int8(aZ, new byte[a.outputs()], a.outputs()));
            g.addInitializer(int8(bW, b.weight(), b.inputs(), b.outputs())).addInitializer(floats(bS, b.scale())).addInitializer(int8(bZ, new byte[b.outputs()], b.outputs()));

            // The first product: the layer's own nodes, reading A.
            nodes.set(mm, mmi.toBuilder().clearInput().addInput(mmi.getInput(0)).addInput(aW).addInput(mmi.getInput(2)).addInput(aZ).build());
            nodes.set(sm, scales.toBuilder().setInput(wsSide, aS).build());
            // Whatever read y (the bias Add) reads the second product's output.
            for (int i = 0; i < nodes.size(); i++) {
                NodeProto n = nodes.get(i);
                if (!n.getInputList().contains(y)) continue;
                NodeProto.Builder r = n.toBuilder();
                for (int k = 0; k < n.getInputCount(); k++) if (n.getInput(k).equals(y)) r.setInput(k, y2);
                nodes.set(i, r.build());
            }
            // The second product, copied from the first's nodes.
            String yq = y + "_quantized", ys = y + "_scale", yz = y + "_zero_point", s2 = p + "_lowrank_b_scales_mul:0";
            String m2 = p + "_lowrank_b_output_quantized", c2 = m2 + "_cast_output";
            List<NodeProto> second = List.of(
                    node(quantize, p + "_lowrank_b_QuantizeLinear", List.of(y), List.of(yq, ys, yz)),
                    node(scales, p + "_lowrank_b_scales_mul", wsSide == 1 ? List.of(ys, bS) : List.of(bS, ys), List.of(s2)),
                    node(mmi, p + "_lowrank_b", List.of(yq, bW, yz, bZ), List.of(m2)),
                    node(cast, m2 + "_cast", List.of(m2), List.of(c2)),
                    node(outMul, p + "_lowrank_b_output_scale_mul", outMul.getInput(0).equals(cast.getOutput(0)) ? List.of(c2, s2) : List.of(s2, c2), List.of(y2)));
            nodes.addAll(om + 1, second);
            resized.add(y);
        }
        g.clearNode().addAllNode(nodes);
        Set<String> usedAfter = referenced(nodes);
        for (int i = g.getInitializerCount() - 1; i >= 0; i--) {
            String name = g.getInitializer(i).getName();
            if (usedBefore.contains(name) && !usedAfter.contains(name)) g.removeInitializer(i);
        }
        for (int i = g.getValueInfoCount() - 1; i >= 0; i--) if (resized.contains(g.getValueInfo(i).getName())) g.removeValueInfo(i);
    }

    private static NodeProto node(NodeProto like, String name, List<String> inputs, List<String> outputs) {
        return like.toBuilder().setName(name).clearInput().addAllInput(inputs).clearOutput().addAllOutput(outputs).build();
    }

    private static Set<String> referenced(List<NodeProto> nodes) {
        Set<String> s = new HashSet<>();
        for (NodeProto n : nodes) s.addAll(n.getInputList());
        return s;
    }

    private static int only(List<NodeProto> nodes, java.util.function.Predicate<NodeProto> which, String source, String what) {
        int found = -1;
        for (int i = 0; i < nodes.size(); i++) {
            if (!which.test(nodes.get(i))) continue;
            if (found >= 0) throw new IllegalArgumentException(source + ": more than one " + what + "; cannot factorize that linear");
            found = i;
        }
        if (found < 0) throw new IllegalArgumentException(source + ": no " + what + " (not ONNX Runtime's dynamic int8 linear); cannot factorize it");
        return found;
    }

    private static TensorProto int8(String name, byte[] v, int... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT8_VALUE);
        for (int d : dims) t.addDims(d);
        return t.setRawData(ByteString.copyFrom(v)).build();
    }

    static TensorProto floats(String name, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(v.length)
                .setRawData(ByteString.copyFrom(b.array())).build();
    }
}
