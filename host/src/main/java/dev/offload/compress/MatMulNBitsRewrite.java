package dev.offload.compress;

import com.google.protobuf.ByteString;
import dev.offload.model.BlockQuantizedLinear;
import dev.offload.model.onnx.MatMulNBitsWeights;
import dev.offload.model.onnx.proto.OnnxProtos.AttributeProto;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.ModelProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.model.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import dev.offload.model.onnx.proto.OnnxProtos.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites the int8 linears of an ONNX Runtime dynamic-quantized graph as 4-bit ones: each chain
 * <pre>
 *   DynamicQuantizeLinear(x) -> MatMulInteger(xq, W, x_zero[, w_zero]) -> Cast -> Mul(., Mul(x_scale, w_scale)) [-> Add bias]
 * </pre>
 * becomes {@code com.microsoft MatMulNBits(x, B, scales, "", "", bias)} (bits 4, block_size 32, accuracy_level 4:
 * ONNX Runtime's W4A8) writing the chain's output value, so the nodes after it are unchanged. The new node takes the
 * place of the MatMulInteger (its input x is computed before the DynamicQuantizeLinear, its output is read after the
 * chain: the order stays topological). A DynamicQuantizeLinear that no node reads any more (Q, K and V share one) is
 * dropped, and so is every initializer no node reads (the int8 weights, their scales and zero points).
 */
final class MatMulNBitsRewrite {
    private MatMulNBitsRewrite() {}

    /** @param linears the 4-bit linear for each MatMulInteger weight initializer's name */
    static void apply(ModelProto.Builder model, GraphProto.Builder g, Map<String, BlockQuantizedLinear> linears, String source) {
        List<NodeProto> nodes = new ArrayList<>(g.getNodeList());
        Map<String, Integer> producer = new HashMap<>();
        Map<String, List<Integer>> readers = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String o : nodes.get(i).getOutputList()) producer.put(o, i);
            for (String in : nodes.get(i).getInputList()) readers.computeIfAbsent(in, v -> new ArrayList<>()).add(i);
        }
        Set<Integer> removed = new HashSet<>();
        Map<Integer, NodeProto> replacement = new HashMap<>();
        List<TensorProto> added = new ArrayList<>();
        int done = 0;
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto mmi = nodes.get(i);
            if (!mmi.getOpType().equals("MatMulInteger") || !linears.containsKey(mmi.getInput(1))) continue;
            String w = mmi.getInput(1);
            BlockQuantizedLinear b = linears.get(w);
            NodeProto dql = at(nodes, producer.get(mmi.getInput(0)), "DynamicQuantizeLinear", source, w);
            int castAt = onlyReader(readers, mmi.getOutput(0), nodes, "Cast", source, w);
            int mulAt = onlyReader(readers, nodes.get(castAt).getOutput(0), nodes, "Mul", source, w);
            NodeProto mul = nodes.get(mulAt);
            String scalesValue = mul.getInput(0).equals(nodes.get(castAt).getOutput(0)) ? mul.getInput(1) : mul.getInput(0);
            Integer scalesAt = producer.get(scalesValue);
            at(nodes, scalesAt, "Mul", source, w);
            // The bias Add, when the chain has one: the only reader of the scaled product, adding an initializer.
            String out = mul.getOutput(0), bias = "";
            List<Integer> next = readers.getOrDefault(out, List.of());
            Integer addAt = null;
            if (next.size() == 1 && nodes.get(next.getFirst()).getOpType().equals("Add")) {
                NodeProto add = nodes.get(next.getFirst());
                String other = add.getInput(0).equals(out) ? add.getInput(1) : add.getInput(0);
                if (isInitializer(g, other)) {
                    addAt = next.getFirst();
                    bias = other;
                    out = add.getOutput(0);
                }
            }
            MatMulNBitsWeights.Packed p = MatMulNBitsWeights.pack(b.weight());
            String bName = w + "_q4", sName = w + "_q4_scales";
            added.add(TensorProto.newBuilder().setName(bName).setDataType(TensorProto.DataType.UINT8_VALUE)
                    .addDims(p.n()).addDims(p.k() / MatMulNBitsWeights.BLOCK_SIZE).addDims(MatMulNBitsWeights.BLOB_BYTES)
                    .setRawData(ByteString.copyFrom(p.b())).build());
            added.add(floats(sName, p.scales(), p.n(), p.k() / MatMulNBitsWeights.BLOCK_SIZE));
            NodeProto.Builder nbits = NodeProto.newBuilder().setName(mmi.getName() + "_MatMulNBits").setOpType("MatMulNBits")
                    .setDomain("com.microsoft").addInput(dql.getInput(0)).addInput(bName).addInput(sName);
            // The bias is input 5 (3, zero_points, and 4, g_idx, left empty).
            if (!bias.isEmpty()) nbits.addInput("").addInput("").addInput(bias);
            replacement.put(i, nbits.addOutput(out)
                    .addAttribute(intAttr("K", p.k())).addAttribute(intAttr("N", p.n())).addAttribute(intAttr("bits", MatMulNBitsWeights.BITS))
                    .addAttribute(intAttr("block_size", MatMulNBitsWeights.BLOCK_SIZE))
                    .addAttribute(intAttr("accuracy_level", MatMulNBitsWeights.ACCURACY_LEVEL)).build());
            removed.addAll(List.of(castAt, mulAt, scalesAt));
            if (addAt != null) removed.add(addAt);
            done++;
        }
        if (done != linears.size()) throw new IllegalArgumentException(source + ": " + (linears.size() - done) + " 4-bit linear(s) have no MatMulInteger node");

        List<NodeProto> kept = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (replacement.containsKey(i)) kept.add(replacement.get(i));
            else if (!removed.contains(i)) kept.add(nodes.get(i));
        }
        kept = withoutUnreadQuantizers(kept, g);
        g.clearNode().addAllNode(kept);
        g.addAllInitializer(added);
        dropUnread(g);
        if (model.getOpsetImportList().stream().noneMatch(o -> o.getDomain().equals("com.microsoft"))) {
            model.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1));
        }
    }

    /** Drops DynamicQuantizeLinear nodes none of whose outputs is read (repeated: nothing else can become unread). */
    private static List<NodeProto> withoutUnreadQuantizers(List<NodeProto> nodes, GraphProto.Builder g) {
        Set<String> read = new HashSet<>();
        for (NodeProto n : nodes) read.addAll(n.getInputList());
        for (ValueInfoProto o : g.getOutputList()) read.add(o.getName());
        return nodes.stream().filter(n -> !n.getOpType().equals("DynamicQuantizeLinear") || n.getOutputList().stream().anyMatch(read::contains)).toList();
    }

    /** Removes initializers (and their graph-input entries) and value infos that no node reads or writes any more. */
    private static void dropUnread(GraphProto.Builder g) {
        Set<String> read = new HashSet<>(), written = new HashSet<>();
        for (NodeProto n : g.getNodeList()) {
            read.addAll(n.getInputList());
            written.addAll(n.getOutputList());
        }
        for (ValueInfoProto o : g.getOutputList()) read.add(o.getName());
        List<TensorProto> inits = g.getInitializerList().stream().filter(t -> read.contains(t.getName())).toList();
        Set<String> dropped = new HashSet<>();
        for (TensorProto t : g.getInitializerList()) if (!read.contains(t.getName())) dropped.add(t.getName());
        g.clearInitializer().addAllInitializer(inits);
        List<ValueInfoProto> inputs = g.getInputList().stream().filter(v -> !dropped.contains(v.getName())).toList();
        g.clearInput().addAllInput(inputs);
        List<ValueInfoProto> infos = g.getValueInfoList().stream().filter(v -> written.contains(v.getName())).toList();
        g.clearValueInfo().addAllValueInfo(infos);
    }

    private static boolean isInitializer(GraphProto.Builder g, String name) {
        for (TensorProto t : g.getInitializerList()) if (t.getName().equals(name)) return t.getDimsCount() == 1;
        return false;
    }

    private static NodeProto at(List<NodeProto> nodes, Integer i, String op, String source, String weight) {
        if (i == null || !nodes.get(i).getOpType().equals(op)) {
            throw new IllegalArgumentException(source + ": the linear of weight '" + weight + "' is not ONNX Runtime's dynamic int8 chain (expected " + op + ")");
        }
        return nodes.get(i);
    }

    private static int onlyReader(Map<String, List<Integer>> readers, String value, List<NodeProto> nodes, String op, String source, String weight) {
        List<Integer> r = readers.getOrDefault(value, List.of());
        if (r.size() != 1) throw new IllegalArgumentException(source + ": the linear of weight '" + weight + "': '" + value + "' has " + r.size() + " readers, expected one " + op);
        at(nodes, r.getFirst(), op, source, weight);
        return r.getFirst();
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static TensorProto floats(String name, float[] v, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
        for (long d : dims) t.addDims(d);
        return t.setRawData(ByteString.copyFrom(b.array())).build();
    }
}
