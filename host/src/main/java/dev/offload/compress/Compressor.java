package dev.offload.compress;

import dev.offload.model.EncoderConfig;
import dev.offload.model.EncoderLayer;
import dev.offload.model.EncoderModel;
import dev.offload.model.Linear;
import dev.offload.model.QuantizedLinear;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies a {@link CompressionSpec} to an int8 encoder in memory. The result keeps, for each linear it changed, the
 * original beside the new one, which is what {@link CompressedOnnx} needs to rewrite the file's initializers.
 */
public final class Compressor {
    private Compressor() {}

    /** The compressed model and which linears changed (original -> new, by identity). */
    public record Compressed(EncoderModel model, CompressionSpec spec, Map<QuantizedLinear, Linear> replaced) {}

    /** Compresses {@code model}; a spec the model cannot take is an {@link IllegalArgumentException} of one line. */
    public static Compressed compress(EncoderModel model, CompressionSpec spec) {
        if (!model.quantized()) throw new IllegalArgumentException(model.name() + " is a float model; compress takes the int8 (ONNX dynamic-quantized) encoders");
        spec.check(model.config());
        Map<QuantizedLinear, Linear> replaced = new IdentityHashMap<>();
        List<EncoderLayer> layers = new ArrayList<>();
        for (int i = 0; i < model.layers().size(); i++) {
            EncoderLayer l = model.layers().get(i);
            EncoderLayer c = switch (spec.method()) {
                case MAGNITUDE, TWO_FOUR, BLOCK -> {
                    String p = "layer " + i + " ";
                    yield new EncoderLayer(pruned(l.query(), spec, p + "query", replaced), pruned(l.key(), spec, p + "key", replaced),
                            pruned(l.value(), spec, p + "value", replaced), pruned(l.attentionOutput(), spec, p + "attention output", replaced),
                            l.attentionNorm(), pruned(l.intermediate(), spec, p + "FFN up", replaced),
                            pruned(l.output(), spec, p + "FFN down", replaced), l.outputNorm());
                }
                case FFN_NEURONS -> {
                    EncoderLayer f = FfnNeuronPruning.prune(l, spec.neuronsRemoved(model.config()));
                    replaced.put((QuantizedLinear) l.intermediate(), (QuantizedLinear) f.intermediate());
                    replaced.put((QuantizedLinear) l.output(), (QuantizedLinear) f.output());
                    yield f;
                }
                case INT4 -> new EncoderLayer(int4(l.query(), replaced), int4(l.key(), replaced), int4(l.value(), replaced),
                        int4(l.attentionOutput(), replaced), l.attentionNorm(), int4(l.intermediate(), replaced),
                        int4(l.output(), replaced), l.outputNorm());
                case HEADS, LOW_RANK -> throw new IllegalArgumentException(notOffered(spec.method()));
            };
            layers.add(c);
        }
        EncoderConfig k = model.config();
        EncoderConfig config = new EncoderConfig(k.hidden(), k.heads(), k.layers(), layers.getFirst().intermediate().outputs(),
                k.vocabSize(), k.maxPositions(), k.typeVocabSize(), k.scoreDivisor());
        return new Compressed(new EncoderModel(model.name() + " (" + spec + ")", config, model.embeddings(), List.copyOf(layers)), spec, replaced);
    }

    /** Why a method of the issue is not offered (yet), in one line. */
    static String notOffered(Method m) {
        return switch (m) {
            case HEADS -> "heads: not implemented yet (the encoder derives the head size from hidden / heads; removing heads needs a per-model head size and rewritten reshape constants)";
            case LOW_RANK -> "low-rank: not implemented yet (a factorized linear needs a two-MatMulInteger node pattern in the importer and a graph op for it)";
            default -> m + " is offered";
        };
    }

    private static Linear int4(Linear l, Map<QuantizedLinear, Linear> replaced) {
        QuantizedLinear q = (QuantizedLinear) l;
        Linear b = Int4Quantization.quantize(q);
        replaced.put(q, b);
        return b;
    }

    private static Linear pruned(Linear l, CompressionSpec spec, String name, Map<QuantizedLinear, Linear> replaced) {
        QuantizedLinear q = (QuantizedLinear) l;
        QuantizedLinear p = UnstructuredPruning.prune(q, spec, name);
        replaced.put(q, p);
        return p;
    }
}
