package dev.offload.compress;

import java.util.Arrays;
import java.util.Locale;

/**
 * How {@link Method#HEADS} ranks a layer's heads (LLM-Pruner's two cheap criteria; the weakest go first). Both look
 * at a head through the output projection, since a head matters only by what it writes into the residual stream.
 */
public enum HeadImportance {
    /**
     * Mean over calibration tokens of the L2 norm of the head's contribution to the attention output: its context
     * vector times its rows of the output projection ({@link HeadActivations}). Needs calibration sentences.
     */
    ACTIVATION("activation"),
    /** |the head's Q, K, V columns| x |its rows of the output projection|, dequantized; needs no data. */
    MAGNITUDE("magnitude");

    public final String id;

    HeadImportance(String id) { this.id = id; }

    public static HeadImportance parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        for (HeadImportance i : values()) if (i.id.equals(t)) return i;
        throw new IllegalArgumentException("--importance " + text + ": use one of "
                + String.join(", ", Arrays.stream(values()).map(i -> i.id).toList()));
    }

    @Override public String toString() { return id; }
}
