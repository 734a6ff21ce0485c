package dev.offload.spark.bench;

import dev.offload.spark.SparkEmbeddingOptions;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;

/**
 * A Spark "cluster" on this machine with offload's devices as a resource: {@code local-cluster[1,SLOTS,1024]} runs a
 * master and a worker in this JVM and one executor JVM of SLOTS task slots, each slot holding one device. What the
 * tests and the bench use to run executors as a real cluster's are run (a JVM of their own, resources assigned by the
 * scheduler) without a cluster.
 *
 * <p>The caller's environment must name {@code SPARK_HOME} (a folder; its {@code jars/} is made here, empty: the
 * executor's class path is {@code classPath}) and {@code SPARK_SCALA_VERSION=2.13}: the worker reads both from its
 * environment when it launches the executor. The worker finds the devices with {@code discoveryScript}
 * (spark/bin/offload-discover.sh).
 */
public final class LocalClusterSession {
    private LocalClusterSession() {}

    /**
     * Starts it.
     *
     * @param devices   task slots, and devices the executor asks for (the machine must have that many)
     * @param classPath the executor's class path: offload, Spark and the application
     * @param cacheDir  the executor's OFFLOAD_CACHE_DIR (compiled programs)
     */
    public static SparkSession start(String appName, int devices, String classPath, Path discoveryScript, Path cacheDir) throws IOException {
        String sparkHome = System.getenv("SPARK_HOME");
        if (sparkHome == null || !"2.13".equals(System.getenv("SPARK_SCALA_VERSION"))) {
            throw new IllegalStateException("local-cluster needs SPARK_HOME (any folder) and SPARK_SCALA_VERSION=2.13 in the environment");
        }
        Files.createDirectories(Path.of(sparkHome, "jars"));
        String resource = SparkEmbeddingOptions.DEFAULT_RESOURCE;
        String javaHome = System.getProperty("java.home");
        return SparkSession.builder().master("local-cluster[1," + devices + ",1024]").appName(appName)
                .config("spark.ui.enabled", "false")
                .config("spark.worker.resource." + resource + ".amount", Integer.toString(devices))
                .config("spark.worker.resource." + resource + ".discoveryScript", discoveryScript.toAbsolutePath().toString())
                .config("spark.executor.resource." + resource + ".amount", Integer.toString(devices))
                .config("spark.task.resource." + resource + ".amount", "1")
                .config("spark.executor.extraClassPath", absolute(classPath))
                // The executor is a JVM of its own: native access for the Panama binding, and the JVM's signal
                // chaining under PoCL (README: PoCL signal handling), come from here, not from this JVM's flags.
                .config("spark.executor.extraJavaOptions", "--enable-native-access=ALL-UNNAMED -Xss4m")
                .config("spark.executorEnv.LD_PRELOAD", javaHome + "/lib/libjsig.so")
                .config("spark.executorEnv.OFFLOAD_CACHE_DIR", cacheDir.toAbsolutePath().toString())
                .getOrCreate();
    }

    /** The executor starts in a work folder of its own: a relative class path entry would name nothing there. */
    private static String absolute(String classPath) {
        return Arrays.stream(classPath.split(File.pathSeparator)).filter(e -> !e.isEmpty())
                .map(e -> Path.of(e).toAbsolutePath().toString()).collect(Collectors.joining(File.pathSeparator));
    }
}
