package dev.offload.compress;

import java.util.Arrays;
import java.util.Locale;

/**
 * The ways {@code offload compress} makes an encoder smaller, and what {@code --target} means for each. Unstructured
 * methods keep every matrix's shape and zero weights (the file stores them as dense zeros and names the sparse format
 * offload runs them in); structured methods remove whole neurons or heads and leave smaller dense matrices.
 */
public enum Method {
    /** Per output channel, keep the largest (1 - target) of its weights by |w|. */
    MAGNITUDE("magnitude", "sparsity in (0, 1): the fraction of each output channel's weights set to zero"),
    /** In every 4 consecutive inputs of an output channel keep the 2 largest |w| (target is fixed at 0.5). */
    TWO_FOUR("2:4", "ignored (2:4 is always 50% sparse)"),
    /** Blocks of R output channels x C inputs ranked by the norm of their dequantized weights; the weakest are zeroed. */
    BLOCK("block", "sparsity in (0, 1): the fraction of each matrix's RxC blocks set to zero"),
    /** Whole FFN intermediate neurons (a column of the up projection and the row of the down projection it feeds). */
    FFN_NEURONS("ffn-neurons", "fraction in (0, 1) of each layer's FFN neurons removed"),
    /** Whole attention heads (their slices of Q, K, V and rows of the output projection). */
    HEADS("heads", "fraction in (0, 1) of each layer's heads removed; heads x target must be a whole number"),
    /** Each linear as two thinner ones (SVD). */
    LOW_RANK("low-rank", "energy fraction in (0, 1] kept by the rank of each layer"),
    /** 4-bit weights with per-group scales (W4A8). */
    INT4("int4", "ignored");

    public final String id;
    public final String target;

    Method(String id, String target) {
        this.id = id;
        this.target = target;
    }

    /** True when the method zeroes weights in place (the model keeps its shapes and runs on sparse kernels). */
    public boolean unstructured() { return this == MAGNITUDE || this == TWO_FOUR || this == BLOCK; }

    public static Method parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        for (Method m : values()) if (m.id.equals(t)) return m;
        throw new IllegalArgumentException("unknown method '" + text + "': use one of "
                + String.join(", ", Arrays.stream(values()).map(m -> m.id).toList()));
    }

    @Override public String toString() { return id; }
}
