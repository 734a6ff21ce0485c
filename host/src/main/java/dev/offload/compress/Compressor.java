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

    /**
     * The compressed model and which linears changed (original -> new, by identity: a pruned or narrowed
     * QuantizedLinear, or a FactorizedLinear); {@code notes} are markdown lines on what was done where (the ranks of
     * a low-rank compression), empty when the spec says it all.
     */
    public record Compressed(EncoderModel model, CompressionSpec spec, Map<QuantizedLinear, Linear> replaced, List<String> notes) {}

    /** Compresses {@code model} with a spec that needs no calibration sentences. */
    public static Compressed compress(EncoderModel model, CompressionSpec spec) { return compress(model, spec, null); }

    /**
     * Compresses {@code model}; a spec the model cannot take is an {@link IllegalArgumentException} of one line.
     * {@code calibration} is read when the spec {@linkplain CompressionSpec#needsCalibration needs it}, else may be null.
     */
    public static Compressed compress(EncoderModel model, CompressionSpec spec, Calibration calibration) {
        if (!model.quantized()) throw new IllegalArgumentException(model.name() + " is a float model; compress takes the int8 (ONNX dynamic-quantized) encoders");
        for (EncoderLayer l : model.layers()) {
            if (CompressedModelFile.linears(l).stream().anyMatch(x -> !(x instanceof QuantizedLinear))) {
                throw new IllegalArgumentException(model.name() + " has factorized (low-rank) linears; compress takes an encoder whose linears are plain int8");
            }
        }
        spec.check(model.config());
        if (spec.needsCalibration() && calibration == null) throw new IllegalArgumentException(spec + ": needs calibration sentences");
        EncoderConfig k = model.config();
        // Heads are ranked on the unpruned model, all layers at once (activation importance runs it once).
        double[][] headScores = spec.method() != Method.HEADS ? null : switch (spec.importance()) {
            case ACTIVATION -> HeadActivations.of(model, calibration.batches());
            case MAGNITUDE -> model.layers().stream().map(l -> HeadPruning.magnitude(l, k.heads(), k.headSize())).toArray(double[][]::new);
        };
        Map<QuantizedLinear, Linear> replaced = new IdentityHashMap<>();
        List<EncoderLayer> layers = new ArrayList<>();
        LowRankTable ranks = new LowRankTable();
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
                case HEADS -> {
                    int[] kept = LinearSlices.kept(headScores[i], k.heads() - spec.headsRemoved(k));
                    EncoderLayer p = HeadPruning.prune(l, k.headSize(), kept);
                    replaced.put((QuantizedLinear) l.query(), (QuantizedLinear) p.query());
                    replaced.put((QuantizedLinear) l.key(), (QuantizedLinear) p.key());
                    replaced.put((QuantizedLinear) l.value(), (QuantizedLinear) p.value());
                    replaced.put((QuantizedLinear) l.attentionOutput(), (QuantizedLinear) p.attentionOutput());
                    yield p;
                }
                case LOW_RANK -> factorized(l, i, spec.target(), ranks, replaced);
                case INT4 -> new EncoderLayer(int4(l.query(), replaced), int4(l.key(), replaced), int4(l.value(), replaced),
                        int4(l.attentionOutput(), replaced), l.attentionNorm(), int4(l.intermediate(), replaced),
                        int4(l.output(), replaced), l.outputNorm());
            };
            layers.add(c);
        }
        int heads = spec.method() == Method.HEADS ? k.heads() - spec.headsRemoved(k) : k.heads();
        EncoderConfig config = new EncoderConfig(k.hidden(), heads, k.headSize(), k.layers(), layers.getFirst().intermediate().outputs(),
                k.vocabSize(), k.maxPositions(), k.typeVocabSize(), k.scoreDivisor());
        return new Compressed(new EncoderModel(model.name() + " (" + spec + ")", config, model.embeddings(), List.copyOf(layers)), spec, replaced,
                spec.method() == Method.LOW_RANK ? ranks.markdown() : List.of());
    }

    /** The layer with each linear that pays factorized at its energy rank ({@link LowRankFactorization}), the rest as they were. */
    private static EncoderLayer factorized(EncoderLayer l, int index, double target, LowRankTable ranks, Map<QuantizedLinear, Linear> replaced) {
        List<Linear> was = CompressedModelFile.linears(l);
        Linear[] now = new Linear[was.size()];
        for (int j = 0; j < now.length; j++) {
            QuantizedLinear q = (QuantizedLinear) was.get(j);
            LowRankFactorization.Choice choice = LowRankFactorization.choose(q, target);
            ranks.add(index, choice);
            now[j] = choice.factorized() == null ? q : choice.factorized();
            if (choice.factorized() != null) replaced.put(q, choice.factorized());
        }
        return new EncoderLayer(now[0], now[1], now[2], now[3], l.attentionNorm(), now[4], now[5], l.outputNorm());
    }

    /** The linear re-quantized to Q4_0 blocks ({@link Int4Quantization}). */
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
