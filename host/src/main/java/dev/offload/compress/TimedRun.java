package dev.offload.compress;

import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EmbeddingSession;
import dev.offload.session.SentenceEmbeddings;
import java.util.List;

/**
 * One model's embeddings of the sentence set and its speed: the session is opened, warmed up on the first batch
 * (program builds and weight uploads are not timed), then every sentence is embedded {@code repeats} times; the
 * fastest pass gives sentences/s (the least disturbed by other work on the machine).
 */
public record TimedRun(SentenceEmbeddings embeddings, double sentencesPerSecond, long weightBytes, String device) {

    public static TimedRun of(EmbeddingOptions options, List<String> sentences, int repeats) {
        try (EmbeddingSession s = EmbeddingSession.open(options)) {
            EmbeddingSession.Tokenized texts = s.tokenize(sentences);
            s.warmUp(texts, 0);
            SentenceEmbeddings e = null;
            double best = Double.MAX_VALUE;
            for (int r = 0; r < Math.max(1, repeats); r++) {
                long t0 = System.nanoTime();
                e = s.embed(texts, 0, null);
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return new TimedRun(e, sentences.size() / best, WeightBytes.of(s.model(), options.prune() != null ? options.prune().format() : storedFormat(options)), s.device());
        }
    }

    /** The format a compressed file's zeros run in (null: dense). */
    private static dev.offload.graph.SparseFormat storedFormat(EmbeddingOptions options) {
        return options.model() instanceof dev.offload.session.EncoderSource.OnnxFile f
                ? dev.offload.model.onnx.OnnxMetadata.read(f.onnx()).sparseFormat().orElse(null) : null;
    }
}
