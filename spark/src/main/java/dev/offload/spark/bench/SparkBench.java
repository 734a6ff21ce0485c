package dev.offload.spark.bench;

import dev.offload.session.EmbeddingSession;
import dev.offload.spark.OffloadEmbeddings;
import dev.offload.spark.SparkEmbeddingOptions;
import dev.offload.spark.TaskDevice;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code ./offload bench-spark}: sentences/s through Spark on one and on two devices against an
 * {@link EmbeddingSession} alone on the same sentences, and the overhead. Every Spark case runs a warm-up job first
 * (the executor opens its sessions and builds its programs there), then one timed job that embeds every sentence into
 * Spark's no-op sink. Needs two OpenCL devices for the two-device case ({@code POCL_DEVICES="pthread pthread"}, which
 * the launcher sets), and SPARK_HOME / SPARK_SCALA_VERSION for local-cluster (the launcher sets them too).
 *
 * <p>Arguments: {@code [SENTENCES [BATCH]]}, default 2000 and 32.
 */
public final class SparkBench {
    private SparkBench() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        List<String> texts = sentences(n);
        SparkEmbeddingOptions options = SparkEmbeddingOptions.defaults().withBatchSize(batch);
        String classPath = System.getProperty("java.class.path");
        Path discover = Path.of(System.getProperty("offload.spark.discover", "spark/bin/offload-discover.sh"));
        Path cache = Path.of(System.getProperty("java.io.tmpdir"), "offload-bench-spark-cache");

        System.out.printf(Locale.ROOT, "# ./offload bench-spark %d %d, load average %.1f before%n", n, batch, load());
        System.out.printf("%-8s %-34s %-26s %-9s %10s %22s %7s  %s%n", "section", "case", "impl", "device", "ms", "rate", "ratio", "note");
        String what = "all-minilm-l6-v2-q x" + n + " sentences";

        double alone;
        try (EmbeddingSession s = EmbeddingSession.open(options.sessionOptions(TaskDevice.CPU))) {
            s.embed(texts.subList(0, Math.min(n, 4 * batch)));
            long t0 = System.nanoTime();
            s.embed(texts);
            alone = (System.nanoTime() - t0) / 1e6;
        }
        row(what, "offload-session", "cl:cpu", alone, n, 0, "EmbeddingSession.embed alone (what ./offload run uses), batches of " + batch + ", no Spark");

        SparkSession local = SparkSession.builder().master("local[2]").appName("bench-spark-local").config("spark.ui.enabled", "false").getOrCreate();
        double localMs = timed(local, texts, options, 2);
        local.stop();
        row(what, "spark local[2]", "cl:cpu", localMs, n, alone, "driver JVM = executor, 2 task threads, no resources: both on the CPU fallback device, one session");

        for (int devices = 1; devices <= 2; devices++) {
            SparkSession cluster = LocalClusterSession.start("bench-spark-" + devices, devices, classPath, discover, cache);
            double ms = timed(cluster, texts, options, 2 * devices);
            cluster.stop();
            row(what, "spark local-cluster[1," + devices + "]", devices == 1 ? "cl:0:0" : "cl:0:0+0:1", ms, n, alone,
                    "one executor JVM, " + devices + " task slot(s), each holding one device (a Spark resource)");
        }
        System.out.printf(Locale.ROOT, "# load average %.1f after; ratio = session time / Spark time (1.00: no overhead); %d cores%n",
                load(), Runtime.getRuntime().availableProcessors());
    }

    /** One warm-up job, then the timed one: every row embedded, written to Spark's no-op sink. */
    private static double timed(SparkSession spark, List<String> texts, SparkEmbeddingOptions options, int partitions) {
        Dataset<Row> df = frame(spark, texts, partitions);
        OffloadEmbeddings.embed(df.limit(Math.max(partitions * 8, 64)).repartition(partitions), "text", options)
                .write().format("noop").mode("overwrite").save();
        long t0 = System.nanoTime();
        OffloadEmbeddings.embed(df, "text", options).write().format("noop").mode("overwrite").save();
        return (System.nanoTime() - t0) / 1e6;
    }

    private static Dataset<Row> frame(SparkSession spark, List<String> texts, int partitions) {
        StructType schema = new StructType().add("id", DataTypes.LongType, false).add("text", DataTypes.StringType, false);
        List<Row> rows = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) rows.add(RowFactory.create((long) i, texts.get(i)));
        return spark.createDataFrame(rows, schema).repartitionByRange(partitions, functions.col("id")).cache();
    }

    private static void row(String what, String impl, String device, double ms, int n, double baseline, String note) {
        String ratio = baseline > 0 ? String.format(Locale.ROOT, "%.2fx", baseline / ms) : "";
        System.out.printf(Locale.ROOT, "%-8s %-34s %-26s %-9s %10.1f %10.1f sentences/s %7s  %s%n", "spark", what, impl, device, ms,
                n / (ms / 1000), ratio, note);
        System.out.flush();
    }

    private static double load() { return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(); }

    /** Short seeded sentences (the bench's own; the same every run). */
    static List<String> sentences(int n) {
        String[] a = {"The farmer", "A small child", "My neighbour", "The old captain", "Every student", "A quiet engineer"};
        String[] b = {"carried", "painted", "forgot", "measured", "repaired", "described", "followed", "borrowed"};
        String[] c = {"the wooden boat", "three letters", "a bright lantern", "the broken clock", "the long bridge", "a silver coin"};
        String[] d = {"", " before dawn", " in the rain", " for the festival", " near the harbour", " after a long winter"};
        Random r = new Random(2026);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(a[r.nextInt(a.length)] + " " + b[r.nextInt(b.length)] + " " + c[r.nextInt(c.length)] + d[r.nextInt(d.length)] + ".");
        return out;
    }
}
