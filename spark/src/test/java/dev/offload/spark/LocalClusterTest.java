package dev.offload.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
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
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String javaHome = System.getProperty("java.home");
        // The worker reads SPARK_HOME/jars for the executor's class path: empty here, the test class path comes in
        // through spark.executor.extraClassPath (pom.xml points SPARK_HOME here).
        Files.createDirectories(target.resolve("spark-home/jars"));
        // What bin/offload-discover.sh calls as its launcher (OFFLOAD_LAUNCHER, pom.xml): the CLI on the test class path.
        Path launcher = target.resolve("offload-test-launcher");
        Files.writeString(launcher, "#!/usr/bin/env bash\nexec env LD_PRELOAD=" + javaHome + "/lib/libjsig.so " + javaHome
                + "/bin/java --enable-native-access=ALL-UNNAMED -cp '" + classPath + "' dev.offload.cli.Main \"$@\"\n");
        launcher.toFile().setExecutable(true);
        String discover = Path.of("bin/offload-discover.sh").toAbsolutePath().toString();
        spark = SparkSession.builder().master("local-cluster[1,2,1024]").appName("offload-local-cluster")
                .config("spark.ui.enabled", "false")
                .config("spark.worker.resource." + RESOURCE + ".amount", "2")
                .config("spark.worker.resource." + RESOURCE + ".discoveryScript", discover)
                .config("spark.executor.resource." + RESOURCE + ".amount", "2")
                .config("spark.task.resource." + RESOURCE + ".amount", "1")
                .config("spark.executor.extraClassPath", classPath)
                // The executor is a JVM of its own: native access for the Panama binding, and the JVM's signal
                // chaining under PoCL (README: PoCL signal handling) come from here, not from this JVM's flags.
                .config("spark.executor.extraJavaOptions", "--enable-native-access=ALL-UNNAMED -Xss4m")
                .config("spark.executorEnv.LD_PRELOAD", javaHome + "/lib/libjsig.so")
                .config("spark.executorEnv.POCL_DEVICES", "pthread pthread")
                .config("spark.executorEnv.OFFLOAD_CACHE_DIR", target.resolve("offload-cache").toString())
                .getOrCreate();
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
        Dataset<Row> embedded = OffloadEmbeddings.embed(DirectEmbeddings.corpusFrame(spark, 6), "text", DirectEmbeddings.options())
                .withColumn("assigned", assigned.apply()).withColumn("jvm", jvm.apply());
        List<Row> rows = embedded.collectAsList();
        DirectEmbeddings.assertMatchesCorpus(rows, 2);

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
