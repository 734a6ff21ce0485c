package dev.offload.spark;

import dev.offload.session.EmbeddingSession;
import dev.offload.session.SentenceEmbeddings;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;

/**
 * The function for {@code JavaRDD<String>.mapPartitions}: each text's embedding, in order, batch by batch, on the
 * task's device ({@link TaskDevice}) through the executor's session ({@link ExecutorRuntime}). A null text gives a
 * null embedding.
 *
 * <pre>{@code
 * JavaRDD<float[]> vectors = texts.mapPartitions(new EmbedTexts(SparkEmbeddingOptions.defaults()));
 * }</pre>
 */
public final class EmbedTexts implements FlatMapFunction<Iterator<String>, float[]> {
    private final SparkEmbeddingOptions options;

    public EmbedTexts(SparkEmbeddingOptions options) { this.options = options; }

    @Override
    public Iterator<float[]> call(Iterator<String> texts) {
        EmbeddingSession session = ExecutorRuntime.session(options, TaskDevice.current(options.resourceName()).spec());
        return new Batches<>(texts, options.batchSize(), batch -> embed(session, batch));
    }

    /** The embeddings of a batch of texts, in order; nulls stay null (and cost nothing). */
    static List<float[]> embed(EmbeddingSession session, List<String> texts) {
        List<String> present = texts.stream().filter(t -> t != null).toList();
        SentenceEmbeddings e = present.isEmpty() ? null : session.embed(present);
        List<float[]> out = new ArrayList<>(texts.size());
        int next = 0;
        for (String t : texts) out.add(t == null ? null : e.vector(next++));
        return out;
    }
}
