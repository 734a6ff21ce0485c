package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/** A named tensor of a graph: a graph input, a node output or a graph output. */
public record TensorDef(String name, TensorType type) {
    public TensorDef {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a tensor needs a name");
    }

    public DType dtype() { return type.dtype(); }

    public List<Integer> shape() { return type.shape(); }

    @Override public String toString() { return name + ":" + type; }
}
