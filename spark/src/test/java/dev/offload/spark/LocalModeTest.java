package dev.offload.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cli.Main;
import dev.offload.session.SentenceEmbeddings;
import dev.offload.tensor.Npy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FilterFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spark's local mode: the driver's JVM is the executor, two task threads, no resources offered (so every task falls
 * back to the CPU device). {@code local[2,2]}: a failed task is tried once more, as on a cluster.
 */
class LocalModeTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        ExecutorRuntime.closeAll();
        spark = SparkSession.builder().master("local[2,2]").appName("offload-local").config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4").getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ExecutorRuntime.closeAll();
    }

    @Test
    void aDataFrameEmbeddedThroughSparkEqualsTheSessionBitForBitOnTheCpuFallback() {
        int opened = ExecutorRuntime.sessionsOpened();
        Dataset<Row> embedded = OffloadEmbeddings.embed(DirectEmbeddings.corpusFrame(spark, 5), "text", DirectEmbeddings.options());
        assertEquals("struct<id:bigint,text:string,embedding:array<float>,device:string>", embedded.schema().simpleString());
        List<Row> rows = embedded.collectAsList();
        DirectEmbeddings.assertMatchesCorpus(rows, 2);
        assertTrue(rows.stream().allMatch(r -> r.getString(3).equals(TaskDevice.CPU)), "local mode assigns no device");
        // Five partitions on two task threads, one device: one session in this JVM (or none new, if an earlier test
        // opened it), shared by all the tasks.
        assertTrue(ExecutorRuntime.sessionsOpened() - opened <= 1, ExecutorRuntime.sessionsOpened() - opened + " sessions opened");
        assertTrue(ExecutorRuntime.isOpen(DirectEmbeddings.options(), TaskDevice.CPU));
    }

    @Test
    void theMapPartitionsFunctionKeepsTheOrderOfAPartitionsTexts() {
        List<String> texts = DirectEmbeddings.CORPUS.subList(0, 300);
        JavaRDD<float[]> vectors = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(texts, 3)
                .mapPartitions(new EmbedTexts(DirectEmbeddings.options().withBatchSize(7)));
        List<float[]> out = vectors.collect();
        assertEquals(texts.size(), out.size());
        SentenceEmbeddings ref = DirectEmbeddings.reference();
        for (int i = 0; i < out.size(); i++) {
            DirectEmbeddings.assertBitIdentical(ref.vector(i), out.get(i), "text " + i);
        }
    }

    /** Fails the first attempt of partition 1, after its rows were embedded; counts the failures it made. */
    static final class FailFirstAttemptOfPartition1 implements FilterFunction<Row> {
        static final AtomicInteger failures = new AtomicInteger();

        @Override
        public boolean call(Row row) {
            TaskContext task = TaskContext.get();
            if (task.partitionId() == 1 && task.attemptNumber() == 0) {
                failures.incrementAndGet();
                throw new IllegalStateException("injected failure in partition 1, attempt 0");
            }
            return true;
        }
    }

    @Test
    void aTaskThatFailsIsRetriedAndTheOutputIsStillCompleteAndCorrect() {
        FailFirstAttemptOfPartition1.failures.set(0);
        int n = 400;
        Dataset<Row> embedded = OffloadEmbeddings.embed(DirectEmbeddings.corpusFrame(spark, 4).filter(functions.col("id").lt(n)), "text", DirectEmbeddings.options())
                .filter(new FailFirstAttemptOfPartition1());
        DirectEmbeddings.assertMatchesCorpus(embedded.collectAsList(), 2, n);
        assertEquals(1, FailFirstAttemptOfPartition1.failures.get(), "partition 1 failed once, then ran again");
    }

    @Test
    void nullTextsGiveNullEmbeddingsAndAWrongColumnIsRefusedAtOnce() {
        Dataset<Row> df = spark.sql("SELECT CAST(id AS BIGINT) AS id, IF(id = 1, NULL, 'A lantern.') AS text FROM range(3)");
        List<Row> rows = OffloadEmbeddings.embed(df, "text", DirectEmbeddings.options()).orderBy("id").collectAsList();
        assertTrue(rows.get(1).isNullAt(2));
        DirectEmbeddings.assertBitIdentical(DirectEmbeddings.floats(rows.get(0).getList(2)), rows.get(2).getList(2), "the same text twice");
        assertThrows(IllegalArgumentException.class, () -> OffloadEmbeddings.embed(df, "id"));
        assertThrows(IllegalArgumentException.class, () -> OffloadEmbeddings.embed(df, "text", DirectEmbeddings.options().withOutputColumn("id")));
    }

    /** {@code ./offload run --output} (the CLI, in process) writes the same bits as the session the Spark tests judge by. */
    @Test
    void offloadRunWritesTheSameVectorsAsTheDirectSession(@TempDir Path dir) throws Exception {
        List<String> texts = DirectEmbeddings.CORPUS.subList(0, 40);
        Path input = Files.write(dir.resolve("texts.txt"), texts);
        Path output = dir.resolve("embeddings.npy");
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute("run", "--input", input.toString(), "--output", output.toString(), "--device", TaskDevice.CPU,
                "--batch", "32", "--no-profile");
        assertEquals(0, exit, err.toString());
        float[] written = Npy.read(output).toFloatArray();
        SentenceEmbeddings ref = DirectEmbeddings.reference();
        int h = ref.dimension();
        assertEquals(texts.size() * h, written.length);
        for (int i = 0; i < texts.size(); i++) {
            DirectEmbeddings.assertBitIdentical(ref.vector(i), Arrays.copyOfRange(written, i * h, (i + 1) * h), "text " + i);
        }
    }

    /** README's "Inside Apache Spark" example, as printed there, on a small text file: the vectors are the session's. */
    @Test
    void theReadmeExampleRunsAsShown(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        for (String line : List.of("Dataset<Row> sentences = spark.read().text(\"corpus.txt\").withColumnRenamed(\"value\", \"text\");",
                "Dataset<Row> embedded = OffloadEmbeddings.embed(sentences, \"text\",",
                "SparkEmbeddingOptions.defaults().withModel(\"all-minilm-l6-v2-q\").withBatchSize(32));",
                "embedded.write().parquet(\"embeddings.parquet\");")) {
            assertTrue(readme.contains(line), "README shows: " + line);
        }
        List<String> texts = DirectEmbeddings.CORPUS.subList(0, 20);
        String corpus = Files.write(dir.resolve("corpus.txt"), texts).toString(), parquet = dir.resolve("embeddings.parquet").toString();

        Dataset<Row> sentences = spark.read().text(corpus).withColumnRenamed("value", "text");
        Dataset<Row> embedded = OffloadEmbeddings.embed(sentences, "text",
                SparkEmbeddingOptions.defaults().withModel("all-minilm-l6-v2-q").withBatchSize(32));
        embedded.write().parquet(parquet);

        List<Row> back = spark.read().parquet(parquet).collectAsList();
        assertEquals(texts.size(), back.size());
        SentenceEmbeddings ref = DirectEmbeddings.reference();
        for (Row r : back) {
            String text = r.getString(0);
            DirectEmbeddings.assertBitIdentical(ref.vector(texts.indexOf(text)), r.getList(1), text);
        }
    }
}
