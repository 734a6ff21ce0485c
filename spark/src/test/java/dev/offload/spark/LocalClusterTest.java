package dev.offload.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import dev.offload.spark.bench.LocalClusterSession;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF0;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real executor: {@code local-cluster[1,2,1024]} starts a master and a worker in this JVM and one executor JVM of
 * two task slots, which the worker launches as a cluster's would. The worker finds the two PoCL devices
 * ({@code POCL_DEVICES="pthread pthread"}, set for this module's tests) with {@code bin/offload-discover.sh}, and each
 * task asks for one of them.
 */
class LocalClusterTest {
    private static final String RESOURCE = SparkEmbeddingOptions.DEFAULT_RESOURCE;
    private static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        Path target = Path.of("target").toAbsolutePath();
        String classPath = TestLauncher.classPath();
        TestLauncher.write();
        // POCL_DEVICES="pthread pthread" (pom.xml) reaches the executor through the worker's environment.
        spark = LocalClusterSession.start("offload-local-cluster", 2, classPath, Path.of("bin/offload-discover.sh"),
                target.resolve("offload-cache"));
    }

    @AfterAll
    static void stop() { spark.stop(); }

    /** The addresses Spark assigned the running task for the resource, comma-joined (the task's own view). */
    static final class AssignedAddresses implements UDF0<String> {
        @Override
        public String call() {
            Map<String, ResourceInformation> r = TaskContext.get().resourcesJMap();
            return r.containsKey(RESOURCE) ? String.join(",", r.get(RESOURCE).addresses()) : "";
        }
    }

    /** The executor JVM: its pid, whether it has native access and libjsig preloaded. */
    static final class ExecutorJvm implements UDF0<String> {
        @Override
        public String call() {
            boolean nativeAccess = ManagementFactory.getRuntimeMXBean().getInputArguments().contains("--enable-native-access=ALL-UNNAMED");
            String preload = System.getenv().getOrDefault("LD_PRELOAD", "");
            return ProcessHandle.current().pid() + " native-access=" + nativeAccess + " libjsig=" + preload.contains("libjsig.so");
        }
    }

    @Test
    void eachTaskEmbedsOnItsAssignedDeviceBothDevicesAreUsedAndTheOutputIsBitIdentical() {
        UserDefinedFunction assigned = functions.udf(new AssignedAddresses(), DataTypes.StringType).asNondeterministic();
        UserDefinedFunction jvm = functions.udf(new ExecutorJvm(), DataTypes.StringType).asNondeterministic();
        // The UDFs run after the embedding in the same stage, so in the same task: they see what that task was given.
        // The first 1000 sentences of the corpus (LocalModeTest embeds all 2000): the test's time goes into embedding.
        int n = 1000;
        Dataset<Row> embedded = OffloadEmbeddings.embed(DirectEmbeddings.corpusFrame(spark, 6).filter(functions.col("id").lt(n)),
                        "text", DirectEmbeddings.options())
                .withColumn("assigned", assigned.apply()).withColumn("jvm", jvm.apply());
        List<Row> rows = embedded.collectAsList();
        DirectEmbeddings.assertMatchesCorpus(rows, 2, n);

        for (Row r : rows) assertEquals(r.getString(4), r.getString(3), "row " + r.getLong(0) + ": the device used is the one assigned");
        Set<String> used = rows.stream().map(r -> r.getString(3)).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of("cl:0:0", "cl:0:1"), used, "the two task slots hold the two devices");

        Set<String> jvms = rows.stream().map(r -> r.getString(5)).collect(Collectors.toSet());
        assertEquals(1, jvms.size(), "one executor: " + jvms);
        String executor = jvms.iterator().next();
        assertNotEquals(Long.toString(ProcessHandle.current().pid()), executor.split(" ")[0], "the executor is a JVM of its own");
        assertTrue(executor.endsWith("native-access=true libjsig=true"), executor);
    }
}
