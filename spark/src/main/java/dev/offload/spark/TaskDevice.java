package dev.offload.spark;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device a task runs on: the first address Spark assigned it for the resource (an address is a device spec,
 * see {@code offload devices --spark-resources}), else the CPU device.
 *
 * <p>Spark's local[N] mode offers no resources at all (a task that asks for one is never scheduled), so there, and
 * wherever the cluster was not given the resource, every task falls back to {@link #CPU} — said once per JVM.
 *
 * @param spec     the device spec to open
 * @param assigned true when Spark assigned it; false for the fallback
 */
public record TaskDevice(String spec, boolean assigned) {
    /** The fallback: PoCL's (or any vendor's) CPU device. */
    public static final String CPU = "cl:cpu";

    private static final Logger log = LoggerFactory.getLogger(TaskDevice.class);
    private static final AtomicBoolean warned = new AtomicBoolean();

    /** The device of the task running on this thread ({@code TaskContext.get()}; null outside a task). */
    public static TaskDevice current(String resourceName) {
        TaskContext task = TaskContext.get();
        return of(task == null ? Map.of() : task.resourcesJMap(), resourceName);
    }

    /** The device from a task's assigned resources ({@code TaskContext.resourcesJMap()}). */
    public static TaskDevice of(Map<String, ResourceInformation> resources, String resourceName) {
        ResourceInformation r = resources.get(resourceName);
        List<String> addresses = r == null ? List.of() : List.of(r.addresses());
        if (!addresses.isEmpty()) return new TaskDevice(addresses.getFirst(), true);
        if (warned.compareAndSet(false, true)) {
            log.warn("no Spark resource '{}' assigned to this task (local mode, or spark.task.resource.{}.amount unset):"
                    + " embedding on the CPU device {}", resourceName, resourceName, CPU);
        }
        return new TaskDevice(CPU, false);
    }
}
