package dev.offload.graph;

import dev.offload.ops.blockq.BlockFormat;
import java.util.List;

/**
 * Two or three {@link BlockLinear}s of the same input as one node: a decoder layer's Q, K and V projections, or its
 * FFN gate and up. Output i is exactly what {@code parts.get(i)} alone gives (the same arithmetic, the same order);
 * the node exists so that a device computes all of them in one launch: at decode, where a CPU runtime pays tens of
 * microseconds a launch, that is two fewer per attention block and one fewer per FFN. The weights are the parts'
 * own {@link dev.offload.ops.blockq.BlockMatrix}es (held once on a device, never concatenated or copied).
 *
 * <p>One launch runs one program, so the parts share the weight format and K and all have a bias or none
 * and none has a residual input ({@link #fits} says whether a list can be grouped). Inputs: as {@link BlockLinear}'s (a per-block int8 quantize's
 * three outputs). Kind {@link OpKind#LINEAR}, so {@code linear=...} placement rules apply to it.
 */
public record BlockLinearGroup(List<BlockLinear> parts) implements Op {
    /** The most parts one node takes (what one launch of blockq.cl's group kernel computes). */
    public static final int MAX_PARTS = 3;

    public BlockLinearGroup {
        parts = List.copyOf(parts);
        Op.require(fits(parts), "a block linear group needs 2.." + MAX_PARTS + " parts of one weight format and input size, all with a"
                + " bias or none and no residual, got " + parts.stream().map(BlockLinear::describe).toList());
    }

    /** Whether these linears can be one node: 2..{@value #MAX_PARTS} of them, one format and K, bias on all or none, no residual. */
    public static boolean fits(List<BlockLinear> parts) {
        if (parts.size() < 2 || parts.size() > MAX_PARTS) return false;
        BlockLinear first = parts.getFirst();
        BlockFormat format = first.weight().format();
        for (BlockLinear p : parts) {
            if (p.weight().format() != format || p.inFeatures() != first.inFeatures() || (p.bias() == null) != (first.bias() == null)
                    || p.residual()) return false;
        }
        return true;
    }

    @Override public OpKind kind() { return OpKind.LINEAR; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) { return LinearParts.outputTypes(parts, in); }

    /** The parts' costs summed, x and its scales read once. */
    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) { return LinearParts.cost(parts, in, out, in.get(0).bytes() + in.get(1).bytes()); }

    @Override
    public long weightBytes() { return LinearParts.weightBytes(parts); }

    @Override
    public String describe() {
        BlockLinear first = parts.getFirst();
        return "block linear group " + first.weight().format() + " " + first.inFeatures() + "x"
                + String.join("+", parts.stream().map(p -> Integer.toString(p.outFeatures())).toList());
    }
}
