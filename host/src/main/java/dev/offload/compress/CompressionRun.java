package dev.offload.compress;

import dev.offload.io.AtomicFile;
import dev.offload.model.TokenBatch;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EncoderSource;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code offload compress} does once its options are checked: compress the model once per target (calibrating on
 * {@link SentenceSet#calibration} first when a method ranks by activations), each checked
 * by a re-import, all in memory before the first file is written (a target that fails leaves nothing behind); write
 * the files; then, when a report or chart is asked for, measure the original and every written file in one run on the
 * same device and sentences ({@link TimedRun}, {@link Agreement}).
 *
 * @param outputs one file per spec, in order
 * @param options how the models run for the report (device, batch); its model is replaced by each file's
 */
public record CompressionRun(CompressedModelFile.Source source, List<CompressionSpec> specs, List<Path> outputs,
                             EmbeddingOptions options, List<String> sentences, String sentenceSource, int repeats) {

    /** One written file: its spec, path and the compression's notes (the ranks of a low-rank one). */
    public record Written(CompressionSpec spec, Path file, List<String> notes) {}

    /** Compresses and writes every file (the notes printed after each); returns what was written, in order. */
    public List<Written> compressAndWrite(PrintWriter out) {
        List<Compressor.Compressed> compressed = new ArrayList<>();
        List<byte[]> files = new ArrayList<>();
        Calibration calibration = null;
        if (specs.stream().anyMatch(CompressionSpec::needsCalibration)) {
            calibration = Calibration.builtIn(WordPieceTokenizer.fromJson(source.tokenizer(), source.source() + " tokenizer"));
            out.printf("calibrating on the built-in set's last %d sentences (%d tokens)%n", calibration.sentences(),
                    calibration.batches().stream().mapToInt(TokenBatch::realTokens).sum());
        }
        for (CompressionSpec spec : specs) {
            Compressor.Compressed c = Compressor.compress(source.model(), spec, calibration);
            compressed.add(c);
            files.add(CompressedModelFile.bytes(source, c));
        }
        List<Written> written = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            Path tok = CompressedModelFile.write(source, files.get(i), outputs.get(i));
            out.printf("%s: wrote %s (%,d bytes) and %s%n", specs.get(i), outputs.get(i), files.get(i).length, tok.getFileName());
            for (String line : compressed.get(i).notes()) out.println(line);
            written.add(new Written(specs.get(i), outputs.get(i), compressed.get(i).notes()));
        }
        return written;
    }

    /** Measures the original and each written file (same device, sentences and batch). */
    public CompressionReport measure(List<Written> written, String command, PrintWriter out) {
        TimedRun original = TimedRun.of(options.withModel(source.source()), sentences, repeats);
        out.printf("original: %.1f sentences/s on %s%n", original.sentencesPerSecond(), original.device());
        List<ReportRow> rows = new ArrayList<>();
        for (Written w : written) {
            EncoderSource file = new EncoderSource.OnnxFile(w.file(), null, source.pooling());
            TimedRun r = TimedRun.of(options.withModel(file), sentences, repeats);
            Agreement a = Agreement.of(original.embeddings(), r.embeddings());
            rows.add(new ReportRow(w.spec().toString(), w.file().toString(), r.weightBytes(), r.sentencesPerSecond(), a, w.notes()));
            out.printf("%s: %.1f sentences/s, cosine mean %.5f min %.5f, same nearest neighbour %.1f%%%n", w.spec(),
                    r.sentencesPerSecond(), a.meanCosine(), a.minCosine(), 100 * a.retrieval());
        }
        return new CompressionReport(source.source().toString(), original.device(), sentences.size(), sentenceSource,
                original.weightBytes(), original.sentencesPerSecond(), rows, command);
    }

    public static void writeReport(CompressionReport report, Path markdown, Path chart) {
        if (markdown != null) AtomicFile.write(markdown, report.markdown().getBytes(StandardCharsets.UTF_8));
        if (chart != null) AtomicFile.write(chart, AccuracySpeedChart.svg(report).getBytes(StandardCharsets.UTF_8));
    }
}
