package dev.offload.graph;

import java.util.Optional;

/**
 * What kind of computation a node is: the unit placement rules address ({@code linear=cl:gpu}), implementations are
 * grouped by, and profiles sum over. {@link #key()} is the name users write and tables print.
 */
public enum OpKind {
    LINEAR("linear"),
    SPARSE_LINEAR("sparse_linear"),
    FLOAT_LINEAR("float_linear"),
    ATTENTION("attention"),
    LAYER_NORM("layer_norm"),
    LAYER_NORM_QUANTIZE("layer_norm_quantize"),
    RMS_NORM("rms_norm"),
    GELU("gelu"),
    SILU_GATE("silu_gate"),
    RMS_NORM_QUANTIZE("rms_norm_quantize"),
    SILU_GATE_QUANTIZE("silu_gate_quantize"),
    GELU_GATE_QUANTIZE("gelu_gate_quantize"),
    ROPE("rope"),
    ROPE_QUERY_KEY("rope_query_key"),
    LAST_TOKEN("last_token"),
    ADD("add"),
    QUANTIZE("quantize"),
    DEQUANTIZE("dequantize"),
    EMBEDDING("embedding"),
    POOL("pool");

    private final String key;

    /** The longest {@link #key()}: the width of a kind column in plans and tables. */
    public static final int KEY_WIDTH = java.util.Arrays.stream(values()).mapToInt(k -> k.key.length()).max().orElse(0);

    OpKind(String key) { this.key = key; }

    /** The name in placement rules, plans and profiles. */
    public String key() { return key; }

    /** The kind a placement key names, if it names one. */
    public static Optional<OpKind> byKey(String key) {
        for (OpKind k : values()) if (k.key.equals(key)) return Optional.of(k);
        return Optional.empty();
    }

    @Override public String toString() { return key; }
}
