package dev.offload.compress;

import dev.offload.io.AtomicFile;
import dev.offload.model.BlockQuantizedLinear;
import dev.offload.model.EncoderLayer;
import dev.offload.model.EncoderModel;
import dev.offload.model.FactorizedLinear;
import dev.offload.model.FloatLinearWeights;
import dev.offload.model.Linear;
import dev.offload.model.Pooling;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.onnx.EncoderImporter;
import dev.offload.model.onnx.OnnxModel;
import dev.offload.session.EncoderSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Compresses a model and writes it as {@code FILE.onnx} with the model's tokenizer as {@code tokenizer.json} beside
 * it, so that {@code offload run --model FILE.onnx} and {@code EmbeddingOptions.withModel(FILE.onnx)} load it as
 * they load any encoder file. The written bytes are imported again before anything is written and must give the
 * in-memory compressed model weight for weight: a file that would not reproduce it is never written.
 */
public final class CompressedModelFile {
    private CompressedModelFile() {}

    /** The source as read once: its ONNX bytes, their parse (whose arrays the imported model uses), the model. */
    public record Source(EncoderSource source, byte[] onnx, OnnxModel parsed, EncoderModel model, Pooling pooling, byte[] tokenizer) {
        public static Source read(EncoderSource source) {
            byte[] onnx = source.onnxBytes();
            OnnxModel parsed = OnnxModel.parse(onnx, source.toString());
            Pooling pooling = switch (source) {
                case EncoderSource.Known k -> k.model().pooling;
                case EncoderSource.OnnxFile f -> dev.offload.model.onnx.OnnxMetadata.read(f.onnx()).pooling().orElse(f.pooling());
            };
            return new Source(source, onnx, parsed, EncoderImporter.importModel(parsed), pooling, tokenizerBytes(source));
        }
    }

    /** The compressed model's ONNX bytes, checked by a re-import. */
    public static byte[] bytes(Source s, Compressor.Compressed c) {
        byte[] out = CompressedOnnx.write(s.onnx(), s.parsed(), c, s.pooling(), s.source().toString());
        EncoderModel back = EncoderImporter.importBytes(out, "the compressed model");
        requireSame(c.model(), back);
        return out;
    }

    /** Writes {@code onnx} to {@code file} and the tokenizer beside it; returns the tokenizer's path. */
    public static Path write(Source s, byte[] onnx, Path file) {
        Path tokenizer = file.toAbsolutePath().resolveSibling("tokenizer.json");
        AtomicFile.write(file, onnx);
        AtomicFile.write(tokenizer, s.tokenizer());
        return tokenizer;
    }

    private static byte[] tokenizerBytes(EncoderSource source) {
        try {
            return switch (source) {
                case EncoderSource.Known k -> k.tokenizer() != null ? Files.readAllBytes(k.tokenizer()) : k.model().tokenizerBytes();
                case EncoderSource.OnnxFile f -> Files.readAllBytes(f.tokenizer() != null ? f.tokenizer() : f.onnx().resolveSibling("tokenizer.json"));
            };
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Every linear of {@code back} equal to {@code want}'s, value for value (4-bit: block for block); an IllegalStateException names the first that is not. */
    static void requireSame(EncoderModel want, EncoderModel back) {
        if (!want.config().equals(back.config())) throw new IllegalStateException("the written file reads back as " + back.config() + ", not " + want.config());
        for (int i = 0; i < want.layers().size(); i++) {
            List<Linear> la = linears(want.layers().get(i)), lb = linears(back.layers().get(i));
            for (int j = 0; j < la.size(); j++) {
                if (!same(la.get(j), lb.get(j))) throw new IllegalStateException("the written file does not reproduce layer " + i + " linear " + j);
            }
        }
    }

    /** Same kind, shapes, weights, scales and biases (a factorized linear: both factors; 4-bit: the same blocks). */
    static boolean same(Linear a, Linear b) {
        return switch (a) {
            case QuantizedLinear x -> b instanceof QuantizedLinear y && x.inputs() == y.inputs() && x.outputs() == y.outputs()
                    && Arrays.equals(x.weight(), y.weight()) && Arrays.equals(x.scale(), y.scale()) && Arrays.equals(x.bias(), y.bias());
            case FactorizedLinear x -> b instanceof FactorizedLinear y && same(x.first(), y.first()) && same(x.second(), y.second());
            case BlockQuantizedLinear x -> b instanceof BlockQuantizedLinear y && x.inputs() == y.inputs() && x.outputs() == y.outputs()
                    && Arrays.equals(x.blockBytes(), y.blockBytes()) && Arrays.equals(x.bias(), y.bias());
            case FloatLinearWeights x -> b instanceof FloatLinearWeights y && Arrays.equals(x.weight(), y.weight()) && Arrays.equals(x.bias(), y.bias());
        };
    }

    /** A layer's six linears: query, key, value, attention output, FFN up, FFN down. */
    static List<Linear> linears(EncoderLayer l) {
        return List.of(l.query(), l.key(), l.value(), l.attentionOutput(), l.intermediate(), l.output());
    }
}
