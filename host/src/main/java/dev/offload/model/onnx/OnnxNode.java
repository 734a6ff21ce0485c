package dev.offload.model.onnx;

import dev.offload.model.UnsupportedModelException;
import dev.offload.model.onnx.proto.OnnxProtos.AttributeProto;
import java.util.List;
import java.util.Map;

/** One node of an ONNX graph: operator, inputs and outputs by value name, attributes. */
public record OnnxNode(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                       Map<String, AttributeProto> attributes) {

    public String input(int i) { return i < inputs.size() ? inputs.get(i) : ""; }

    public String output() { return outputs.getFirst(); }

    public long attrInt(String attr, long fallback) {
        AttributeProto a = attributes.get(attr);
        return a == null ? fallback : a.getI();
    }

    public float attrFloat(String attr, float fallback) {
        AttributeProto a = attributes.get(attr);
        return a == null ? fallback : a.getF();
    }

    public long[] attrInts(String attr) {
        AttributeProto a = attributes.get(attr);
        return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    public AttributeProto attrRequired(String attr) {
        AttributeProto a = attributes.get(attr);
        if (a == null) throw new UnsupportedModelException(this + " has no attribute '" + attr + "'");
        return a;
    }

    /** "OpType 'name'" for messages. */
    @Override public String toString() { return opType + " node '" + name + "'"; }
}
