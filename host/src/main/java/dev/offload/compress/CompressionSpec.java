package dev.offload.compress;

import dev.offload.graph.SparseFormat;
import dev.offload.model.EncoderConfig;
import dev.offload.ops.sparse.BsrLinear;
import java.util.Locale;

/**
 * One compression as asked for: the method, its target (see {@link Method#target}), for {@link Method#BLOCK} the
 * block shape (R output channels x C inputs) and for {@link Method#HEADS} how heads are ranked. {@link #check}
 * refuses a target the method cannot meet with one line that names the problem, before anything is computed or
 * written.
 */
public record CompressionSpec(Method method, double target, int blockRows, int blockCols, HeadImportance importance) {
    public CompressionSpec {
        java.util.Objects.requireNonNull(importance, "importance");
    }

    /** A spec with the default head importance ({@link HeadImportance#ACTIVATION}; only {@link Method#HEADS} reads it). */
    public CompressionSpec(Method method, double target, int blockRows, int blockCols) {
        this(method, target, blockRows, blockCols, HeadImportance.ACTIVATION);
    }

    /**
     * The default block: 32 output channels x 4 inputs, a block the BSR linear kernel (ops/sparse BsrLinear) runs as
     * two vpdpbusd operands, so it stores no zeros beyond what was pruned; the fastest of its shapes
     * ({@link BsrLinear#DEFAULT_BLOCK} says what was measured).
     */
    public static final int BLOCK_ROWS = BsrLinear.DEFAULT_BLOCK_ROWS, BLOCK_COLS = BsrLinear.BLOCK_K;

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
                if (!(target > 0)) throw new IllegalArgumentException(method + " " + t + ": keeps no energy (rank 0); the kept energy fraction must be in (0, 1]");
                if (!(target <= 1)) throw new IllegalArgumentException(method + " " + t + ": more than all of the energy; the kept energy fraction must be in (0, 1]");
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
            int removed = neuronsRemoved(c);
            if (removed < 1 || removed >= c.intermediate()) {
                throw new IllegalArgumentException(method + " " + t + ": removes " + removed + " of " + c.intermediate()
                        + " neurons (the kept ones a multiple of " + WIDTH_MULTIPLE + "); remove at least one and keep at least one");
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

    /** True when compressing needs calibration sentences (a {@link Calibration}). */
    public boolean needsCalibration() { return method == Method.HEADS && importance == HeadImportance.ACTIVATION; }

    /** Heads removed from each layer ({@link Method#HEADS}). */
    public int headsRemoved(EncoderConfig c) { return (int) Math.rint(target * c.heads()); }

    /**
     * The widths that structured compression leaves (FFN neurons kept, low-rank ranks) are multiples of this. ONNX
     * Runtime 1.23's MatMulInteger on CPUs with AMX computes wrong values when N is not a multiple of 16 and M is
     * above 32 (measured on the Intel Xeon with AMX, 2026-12-02: e.g. M = 33, N = 17, 60 or 130, any K; known as
     * microsoft/onnxruntime#26324), so a file with such widths would give wrong answers there; offload's own kernels
     * also compute whole 16-column panels fastest.
     */
    public static final int WIDTH_MULTIPLE = 16;

    /**
     * FFN neurons removed from each layer ({@link Method#FFN_NEURONS}): about {@code target} of them, so that the
     * neurons kept are a multiple of {@link #WIDTH_MULTIPLE} (where the model's FFN width is one itself).
     */
    public int neuronsRemoved(EncoderConfig c) {
        int width = c.intermediate();
        if (width % WIDTH_MULTIPLE != 0) return (int) Math.round(target * width);
        long kept = Math.round((1 - target) * width / WIDTH_MULTIPLE) * WIDTH_MULTIPLE;
        return (int) (width - kept);
    }

    static String fmt(double v) { return String.format(Locale.ROOT, "%.4g", v).replaceAll("\\.?0+$", ""); }

    @Override
    public String toString() {
        return switch (method) {
            case TWO_FOUR, INT4 -> method.id;
            case BLOCK -> method.id + " " + blockRows + "x" + blockCols + " " + fmt(target);
            case HEADS -> method.id + " " + fmt(target) + " (" + importance + ")";
            default -> method.id + " " + fmt(target);
        };
    }
}
