package dev.offload.graph;

import java.util.List;

/**
 * Two or three {@link Int8Linear}s of the same quantized input as one node: an encoder layer's Q, K and V
 * projections. Output i is exactly what {@code parts.get(i)} alone gives (the same arithmetic, the same order); the
 * node exists so that a device computes all of them in one launch where its GEMM has a group form (on PoCL each
 * launch boundary costs tens of microseconds; an encoder at batch 1 has 89). The weights are the parts' own arrays
 * (packed once per device, shared with any ungrouped use, never concatenated).
 *
 * <p>One launch builds one program, so the parts share K and the activation, and all have a bias or none ({@link #fits}
 * says whether a list can be grouped). Inputs: as {@link Int8Linear}'s (a quantize node's three outputs). Kind
 * {@link OpKind#LINEAR}, so {@code linear=...} placement rules apply to it.
 */
public record Int8LinearGroup(List<Int8Linear> parts) implements Op {
    /** The most parts one node takes (what one launch of int8_gemm.cl's group kernel computes). */
    public static final int MAX_PARTS = 3;

    public Int8LinearGroup {
        parts = List.copyOf(parts);
        Op.require(fits(parts), "an int8 linear group needs 2.." + MAX_PARTS + " parts of one input size and activation, all with a bias or"
                + " none, got " + parts.stream().map(Int8Linear::describe).toList());
    }

    /** Whether these linears can be one node: 2..{@value #MAX_PARTS} of them, one K and activation, bias on all or none. */
    public static boolean fits(List<Int8Linear> parts) {
        if (parts.size() < 2 || parts.size() > MAX_PARTS) return false;
        Int8Linear first = parts.getFirst();
        for (Int8Linear p : parts) {
            if (p.inFeatures() != first.inFeatures() || p.activation() != first.activation() || (p.bias() == null) != (first.bias() == null)) {
                return false;
            }
        }
        return true;
    }

    @Override public OpKind kind() { return OpKind.LINEAR; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) { return LinearParts.outputTypes(parts, in); }

    /** The parts' costs summed, the quantized input read once. */
    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) { return LinearParts.cost(parts, in, out, in.get(0).bytes()); }

    @Override
    public long weightBytes() { return LinearParts.weightBytes(parts); }

    @Override
    public String describe() {
        Int8Linear first = parts.getFirst();
        return "int8 linear group " + first.inFeatures() + "x" + String.join("+", parts.stream().map(p -> Integer.toString(p.outFeatures())).toList())
                + " " + first.activation();
    }
}
