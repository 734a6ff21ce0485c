package dev.offload.model.onnx;

import dev.offload.model.UnsupportedModelException;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What every pattern matcher of an ONNX graph needs: who produces each value, which values are constants (the
 * {@link ShapeFolder}'s evaluation for the probe input), and which nodes a recognized structure has claimed, so
 * that the importer can refuse a graph with nodes left over.
 */
abstract class GraphMatcher {
    final OnnxModel model;
    final ShapeFolder folder;
    final Map<String, OnnxNode> producers = new HashMap<>();
    final Set<OnnxNode> used = Collections.newSetFromMap(new IdentityHashMap<>());

    GraphMatcher(OnnxModel model, ShapeFolder folder) {
        this.model = model;
        this.folder = folder;
        for (OnnxNode n : model.nodes()) for (String o : n.outputs()) producers.put(o, n);
        used.addAll(folder.foldedNodes());
    }

    UnsupportedModelException mismatch(OnnxNode n, String why) {
        return new UnsupportedModelException(model.source() + ": unrecognized graph structure at "
                + (n == null ? "a graph input" : n.toString()) + " (opset " + model.opset() + "): " + why);
    }

    /** The producer of {@code value}, which must be an {@code op} node. */
    OnnxNode node(String value, String op) {
        OnnxNode n = producers.get(value);
        if (n == null || !n.opType().equals(op)) throw mismatch(n, "expected " + op + " producing '" + value + "'");
        return n;
    }

    OnnxNode nodeOrNull(String value, String op) {
        OnnxNode n = producers.get(value);
        return n != null && n.opType().equals(op) ? n : null;
    }

    OnnxTensor constant(OnnxNode n, int input) {
        OnnxTensor t = folder.value(n.input(input));
        if (t == null) throw mismatch(n, "input " + input + " ('" + n.input(input) + "') must be a constant");
        return t;
    }

    /** Which input of a binary node is constant (0 or 1), or -1. */
    int constantSide(OnnxNode n) {
        if (folder.isConstant(n.input(1))) return 1;
        if (folder.isConstant(n.input(0))) return 0;
        return -1;
    }

    void expectScalar(OnnxNode n, float want, float tolerance) {
        int c = constantSide(n);
        if (c < 0 || !folder.value(n.input(c)).isScalarLike() || Math.abs(folder.value(n.input(c)).scalar() - want) > tolerance) {
            throw mismatch(n, "expected the constant " + want);
        }
    }

    void markUsed(OnnxNode... nodes) { for (OnnxNode n : nodes) if (n != null) used.add(n); }

    /** The nodes no matcher claimed, in file order. */
    List<String> leftovers() {
        return model.nodes().stream().filter(n -> !used.contains(n)).map(OnnxNode::toString).toList();
    }
}
