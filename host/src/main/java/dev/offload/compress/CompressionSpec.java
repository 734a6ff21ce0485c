package dev.offload.compress;

import dev.offload.graph.SparseFormat;
import dev.offload.model.EncoderConfig;
import java.util.Locale;

/**
 * One compression as asked for: the method, its target (see {@link Method#target}) and, for {@link Method#BLOCK},
 * the block shape (R output channels x C inputs). {@link #check} refuses a target the method cannot meet with one
 * line that names the problem, before anything is computed or written.
 */
public record CompressionSpec(Method method, double target, int blockRows, int blockCols) {
    /**
     * The default block: 16 output channels x 4 inputs, the block the BSR linear kernel (ops/sparse BsrLinear) runs:
     * one vpdpbusd operand, so the kernel stores no zeros beyond what was pruned.
     */
    public static final int BLOCK_ROWS = 16, BLOCK_COLS = 4;

    public static CompressionSpec of(Method method, double target) { return new CompressionSpec(method, target, BLOCK_ROWS, BLOCK_COLS); }

    /** The sparse format offload runs the compressed weights in; null for methods that leave dense matrices. */
    public SparseFormat format() {
        return switch (method) {
            case MAGNITUDE -> SparseFormat.CSR;
            case TWO_FOUR -> SparseFormat.TWO_FOUR;
            case BLOCK -> new SparseFormat(SparseFormat.Kind.BSR, blockRows, blockCols);
            default -> null;
        };
    }

    /** Refuses what cannot be done to a model of shape {@code c}: an {@link IllegalArgumentException} of one line. */
    public void check(EncoderConfig c) {
        String t = "--target " + fmt(target);
        switch (method) {
            case MAGNITUDE, BLOCK, FFN_NEURONS, HEADS -> {
                if (!(target > 0 && target < 1)) throw new IllegalArgumentException(method + " " + t + ": must be between 0 and 1 (exclusive); " + method.target);
            }
            case LOW_RANK -> {
                if (!(target > 0 && target <= 1)) throw new IllegalArgumentException(method + " " + t + ": rank 0; the kept energy fraction must be in (0, 1]");
            }
            case TWO_FOUR, INT4 -> { }
        }
        if (method == Method.BLOCK) {
            if (blockRows < 1 || blockCols < 1) throw new IllegalArgumentException("--block " + blockRows + "x" + blockCols + ": both sides must be at least 1");
            if (c.hidden() % blockRows != 0 || c.hidden() % blockCols != 0 || c.intermediate() % blockRows != 0 || c.intermediate() % blockCols != 0) {
                throw new IllegalArgumentException("--block " + blockRows + "x" + blockCols + ": does not divide the model's matrices ("
                        + c.hidden() + " and " + c.intermediate() + ")");
            }
        }
        if (method == Method.INT4 && (c.hidden() % 32 != 0 || c.intermediate() % 32 != 0)) {
            throw new IllegalArgumentException("int4: Q4_0 blocks are 32 inputs; the model's linears have " + c.hidden() + " and "
                    + c.intermediate() + " inputs, not both multiples of 32");
        }
        if (method == Method.FFN_NEURONS) {
            int removed = (int) Math.round(target * c.intermediate());
            if (removed < 1 || removed >= c.intermediate()) {
                throw new IllegalArgumentException(method + " " + t + ": removes " + removed + " of " + c.intermediate() + " neurons; remove at least one and keep at least one");
            }
        }
        if (method == Method.HEADS) {
            double removed = target * c.heads();
            if (Math.abs(removed - Math.rint(removed)) > 1e-9) {
                throw new IllegalArgumentException(method + " " + t + ": " + c.heads() + " heads x " + fmt(target) + " = " + fmt(removed)
                        + " is not a whole number of heads (use a multiple of 1/" + c.heads() + ")");
            }
            if (Math.rint(removed) >= c.heads()) throw new IllegalArgumentException(method + " " + t + ": removes all " + c.heads() + " heads");
        }
    }

    /** Heads removed from each layer ({@link Method#HEADS}). */
    public int headsRemoved(EncoderConfig c) { return (int) Math.rint(target * c.heads()); }

    /** FFN neurons removed from each layer ({@link Method#FFN_NEURONS}). */
    public int neuronsRemoved(EncoderConfig c) { return (int) Math.round(target * c.intermediate()); }

    static String fmt(double v) { return String.format(Locale.ROOT, "%.4g", v).replaceAll("\\.?0+$", ""); }

    @Override
    public String toString() {
        return switch (method) {
            case TWO_FOUR, INT4 -> method.id;
            case BLOCK -> method.id + " " + blockRows + "x" + blockCols + " " + fmt(target);
            default -> method.id + " " + fmt(target);
        };
    }
}
