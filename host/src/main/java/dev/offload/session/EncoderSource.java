package dev.offload.session;

import dev.offload.io.InputFile;
import dev.offload.model.EncoderGraph;
import dev.offload.model.EncoderModel;
import dev.offload.model.ModelCatalog;
import dev.offload.model.Pooling;
import dev.offload.model.UnsupportedModelException;
import dev.offload.model.onnx.EncoderImporter;
import dev.offload.model.onnx.OnnxMetadata;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import java.nio.file.Path;

/**
 * Where an encoder and its tokenizer come from: a model offload knows by name (its jar from Maven Central) or an
 * ONNX file with a tokenizer.json. {@link #load} reads both; a missing or unreadable file is an
 * {@link UnsupportedModelException} that names it.
 */
public sealed interface EncoderSource {
    /** A model of {@link ModelCatalog}, e.g. all-MiniLM-L6-v2-q; {@code tokenizer} null: its own tokenizer.json. */
    record Known(ModelCatalog model, Path tokenizer) implements EncoderSource {
        @Override public String toString() { return model.id; }
    }

    /**
     * An ONNX encoder file; {@code tokenizer} null means tokenizer.json beside it. Pooling: mean for
     * sentence-transformers' models; bge-style models that take the [CLS] token say {@link Pooling#CLS}.
     */
    record OnnxFile(Path onnx, Path tokenizer, Pooling pooling) implements EncoderSource {
        @Override public String toString() { return onnx.toString(); }
    }

    /** A known model by name. */
    static EncoderSource known(ModelCatalog model) { return new Known(model, null); }

    /** A known model's name, else a path to an .onnx file (mean pooling); {@code tokenizer} null: the model's own. */
    static EncoderSource parse(String nameOrPath, Path tokenizer) {
        ModelCatalog known = ModelCatalog.byId(nameOrPath);
        return known != null ? new Known(known, tokenizer) : new OnnxFile(Path.of(nameOrPath), tokenizer, Pooling.MEAN);
    }

    /**
     * The model as read: the imported encoder, its tokenizer, how it pools, and {@code stored}: the sparse format of a
     * file pruned by {@code offload compress} (its zeros are run on sparse kernels as they are), else null.
     */
    record Loaded(EncoderModel model, WordPieceTokenizer tokenizer, Pooling pooling, EncoderGraph.Prune stored) {}

    /** Reads and imports the model and its tokenizer. */
    default Loaded load() {
        return switch (this) {
            case Known k -> new Loaded(EncoderImporter.importBytes(k.model().onnxBytes(), k.model().onnxEntry),
                    k.tokenizer() != null ? tokenizer(k.tokenizer())
                            : WordPieceTokenizer.fromJson(k.model().tokenizerBytes(), k.model().tokenizerEntry),
                    k.model().pooling, null);
            case OnnxFile f -> {
                EncoderModel model = EncoderImporter.importFile(checkedFile(f));
                // A compressed file says how it pools and how its zeros are stored (dev.offload.compress).
                OnnxMetadata meta = OnnxMetadata.read(f.onnx());
                yield new Loaded(model, tokenizer(f.tokenizer() != null ? f.tokenizer() : f.onnx().resolveSibling("tokenizer.json")),
                        meta.pooling().orElse(f.pooling()), meta.sparseFormat().map(EncoderGraph.Prune::asStored).orElse(null));
            }
        };
    }

    /** The ONNX file's bytes (for a comparison with ONNX Runtime; the import itself maps the file). */
    default byte[] onnxBytes() {
        return switch (this) {
            case Known k -> k.model().onnxBytes();
            case OnnxFile f -> read(checkedFile(f));
        };
    }

    private static Path checkedFile(OnnxFile f) {
        InputFile.problem(f.onnx()).ifPresent(p -> {
            throw new UnsupportedModelException("--model " + f.onnx() + ": " + p + (p.equals("no such file")
                    ? ", and not a known model (" + String.join(", ", ModelCatalog.ids()) + ")" : "; give the .onnx file"));
        });
        return f.onnx();
    }

    private static WordPieceTokenizer tokenizer(Path file) {
        InputFile.problem(file).ifPresent(p -> {
            throw new UnsupportedModelException("tokenizer " + file + ": " + p + " (give --tokenizer FILE.json)");
        });
        return WordPieceTokenizer.fromJson(read(file), file.toString());
    }

    private static byte[] read(Path file) {
        try {
            return InputFile.readBytes(file.toString(), file);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(e.getMessage(), e);
        }
    }
}
