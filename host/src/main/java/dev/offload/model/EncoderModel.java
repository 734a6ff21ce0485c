package dev.offload.model;

import java.util.List;

/** A BERT-style encoder imported from a file: the input is token ids and an attention mask, the output last_hidden_state. */
public record EncoderModel(String name, EncoderConfig config, Embeddings embeddings, List<EncoderLayer> layers) {

    /** True when the linear layers are quantized: int8 (in the file, or with {@link #quantizeInt8()}; plain or factorized) or 4-bit blocks. */
    public boolean quantized() { return !(layers.getFirst().query() instanceof FloatLinearWeights); }

    /** How the linear weights are stored, for messages: "float32", "int8" or "int4 (Q4_0)". */
    public String weightKind() {
        return switch (layers.getFirst().query()) {
            case FloatLinearWeights f -> "float32";
            case QuantizedLinear q -> "int8";
            case FactorizedLinear f -> "int8 (factorized)";
            case BlockQuantizedLinear b -> "int4 (Q4_0)";
        };
    }

    /** The same model with every float linear layer quantized per output channel to int8. */
    public EncoderModel quantizeInt8() {
        List<EncoderLayer> q = layers.stream().map(l -> new EncoderLayer(q(l.query()), q(l.key()), q(l.value()),
                q(l.attentionOutput()), l.attentionNorm(), q(l.intermediate()), q(l.output()), l.outputNorm())).toList();
        return new EncoderModel(name + " (int8 at load)", config, embeddings, q);
    }

    private static Linear q(Linear l) { return l instanceof FloatLinearWeights f ? f.quantizeInt8() : l; }

    /** Bytes of weights in the linear layers (int8, float or Q4_0 blocks). */
    public long linearWeightBytes() {
        long b = 0;
        for (EncoderLayer l : layers) {
            for (Linear x : List.of(l.query(), l.key(), l.value(), l.attentionOutput(), l.intermediate(), l.output())) {
                b += switch (x) {
                    case QuantizedLinear q -> (long) q.inputs() * q.outputs();
                    case FactorizedLinear f -> (long) f.inputs() * f.rank() + (long) f.rank() * f.outputs();
                    case BlockQuantizedLinear q -> q.weight().byteSize();
                    case FloatLinearWeights f -> 4L * f.inputs() * f.outputs();
                };
            }
        }
        return b;
    }
}
