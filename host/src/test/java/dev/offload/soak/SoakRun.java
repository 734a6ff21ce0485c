package dev.offload.soak;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Graph;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.management.ObjectName;

/**
 * The soak run, in a JVM of its own (started by {@link SoakTest} with native memory tracking on): a tiny synthetic
 * encoder run {@code runs} times on OpenCL, measuring at a quarter, half and all of the runs the heap after full
 * collections, the JVM's native memory outside the heap (NMT) and the process's resident set (which also sees the
 * driver's allocations).
 * Prints one JSON object.
 */
public final class SoakRun {
    private SoakRun() {}

    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        int[] checkpoints = {runs / 4, runs / 2, runs};
        SyntheticSpec spec = SyntheticSpec.parse("synthetic:arch=encoder,layers=1,hidden=32,heads=2,ffn=48,seq=8,batch=2,seed=11");
        Graph g = SyntheticModel.build(spec);
        Map<String, HostTensor> in = SyntheticModel.inputs(spec, 3);
        ObjectMapper json = new ObjectMapper();
        ObjectNode report = json.createObjectNode();
        ArrayNode points = report.putArray("checkpoints");
        float[] first = null;
        long t0 = System.nanoTime();
        try (OpenClDevice cl = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
             GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("cl:cpu"), DevicePool.of(cl)),
                     OpImplementations.defaults(), true)) {
            int done = 0;
            for (int checkpoint : checkpoints) {
                for (; done < checkpoint; done++) {
                    float[] out = rt.run(in).outputs().values().iterator().next().floats();
                    if (first == null) first = out;
                    else if (!java.util.Arrays.equals(first, out)) throw new AssertionError("run " + done + " gave another result");
                }
                ObjectNode p = points.addObject();
                p.put("runs", done);
                p.put("heapBytes", heapAfterGc());
                p.put("nmtNonHeapBytes", nmtNonHeapCommitted());
                p.put("rssBytes", rss());
                p.put("seconds", (System.nanoTime() - t0) / 1e9);
            }
        }
        System.out.println(json.writeValueAsString(report));
    }

    private static long heapAfterGc() throws InterruptedException {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
            best = Math.min(best, heap.getUsed());
        }
        return best;
    }

    /**
     * NMT's committed total less the Java heap's (the heap grows and shrinks with collections and is measured on its
     * own), from the VM.native_memory summary diagnostic command, in bytes: thread stacks, code, metadata, GC
     * structures, and the native memory Java code allocates (Panama arenas).
     */
    private static long nmtNonHeapCommitted() throws Exception {
        String summary = (String) ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                "vmNativeMemory", new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
        return committed(summary, "Total: reserved=\\d+KB, committed=(\\d+)KB")
                - committed(summary, "Java Heap \\(reserved=\\d+KB, committed=(\\d+)KB");
    }

    private static long committed(String summary, String pattern) {
        var m = java.util.regex.Pattern.compile(pattern).matcher(summary);
        if (!m.find()) throw new IllegalStateException("no '" + pattern + "' in: " + summary.lines().limit(8).toList());
        return Long.parseLong(m.group(1)) * 1024;
    }

    private static long rss() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
        }
        return -1;
    }
}
