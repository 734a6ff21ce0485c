package dev.offload.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.offload.session.EmbeddingSession;
import dev.offload.session.SentenceEmbeddings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What Spark's output is judged against: the test corpus embedded by an {@link EmbeddingSession} of its own (what
 * {@code ./offload run} uses), opened outside Spark and outside {@link ExecutorRuntime}. Computed once per test JVM.
 */
final class DirectEmbeddings {
    /** The corpus every Spark test embeds. */
    static final List<String> CORPUS = Sentences.generate(2000, 19);

    private static SentenceEmbeddings reference;

    private DirectEmbeddings() {}

    /** The options the Spark tests use (their batch size differs from the session's default on purpose). */
    static SparkEmbeddingOptions options() { return SparkEmbeddingOptions.defaults().withBatchSize(24).withDeviceColumn("device"); }

    /** The corpus as a DataFrame (id long, text string) in {@code partitions} partitions of consecutive ids. */
    static Dataset<Row> corpusFrame(SparkSession spark, int partitions) {
        StructType schema = new StructType().add("id", DataTypes.LongType, false).add("text", DataTypes.StringType, false);
        List<Row> rows = new ArrayList<>(CORPUS.size());
        for (int i = 0; i < CORPUS.size(); i++) rows.add(RowFactory.create((long) i, CORPUS.get(i)));
        return spark.createDataFrame(rows, schema).coalesce(1).repartitionByRange(partitions, functions.col("id"));
    }

    static synchronized SentenceEmbeddings reference() {
        if (reference == null) {
            try (EmbeddingSession s = EmbeddingSession.open(options().sessionOptions(TaskDevice.CPU).withBatchSize(32))) {
                reference = s.embed(CORPUS);
            }
        }
        return reference;
    }

    /** Asserts that rows (id, text, embedding, ...) cover the corpus once each, every vector bit for bit the reference's. */
    static void assertMatchesCorpus(List<Row> rows, int embeddingField) { assertMatchesCorpus(rows, embeddingField, CORPUS.size()); }

    /** As {@link #assertMatchesCorpus(List, int)} for the corpus's first {@code n} sentences. */
    static void assertMatchesCorpus(List<Row> rows, int embeddingField, int n) {
        assertEquals(n, rows.size(), "rows");
        Map<Long, Row> byId = rows.stream().collect(Collectors.toMap(r -> r.getLong(0), r -> r));
        assertEquals(n, byId.size(), "distinct ids");
        SentenceEmbeddings ref = reference();
        for (int i = 0; i < n; i++) {
            Row row = byId.get((long) i);
            assertEquals(CORPUS.get(i), row.getString(1), "text of row " + i);
            assertBitIdentical(ref.vector(i), row.getList(embeddingField), "row " + i);
        }
    }

    static void assertBitIdentical(float[] expected, List<Float> actual, String what) {
        assertBitIdentical(expected, floats(actual), what);
    }

    static void assertBitIdentical(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": width");
        for (int j = 0; j < expected.length; j++) {
            if (Float.floatToRawIntBits(expected[j]) != Float.floatToRawIntBits(actual[j])) {
                throw new AssertionError(what + ": element " + j + " is " + actual[j] + ", directly " + expected[j]);
            }
        }
    }

    /** An {@code array<float>} column's value as Spark hands it back. */
    static float[] floats(List<Float> values) {
        float[] a = new float[values.size()];
        for (int i = 0; i < a.length; i++) a[i] = values.get(i);
        return a;
    }
}
