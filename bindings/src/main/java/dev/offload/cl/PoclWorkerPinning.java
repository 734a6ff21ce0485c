package dev.offload.cl;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On request ({@code OFFLOAD_POCL_AFFINITY=1}), pins PoCL's CPU worker threads one to a core, by setting
 * {@code POCL_AFFINITY=1} in the process environment before OpenCL is first loaded (PoCL reads it when it starts its
 * workers).
 *
 * <p>What it does: unpinned, the two workers of a 2-core machine often wake on the same core (the waker's), and a
 * kernel launched on its own then runs on one core while the other idles. On PoCL 3.1, 2 cores of an AMD EPYC, a
 * 1x4096x4096 int8 GEMM launched and waited for 500 times took 0.12 ms in a quarter of the launches and 0.23-0.28 ms
 * in half of them; pinned, 0.12-0.14 ms in 80% of them. Why it is not the default: chains of short kernels lost.
 * The replayed tiny graphs of {@code bench --sections overhead} went from 9.7-11.2 to 13.1-13.3 µs per op, and
 * MiniLM at batch 1 from 10.5 to 12.2 ms (medians of three interleaved runs); batch 8 and 32 did not change.
 *
 * <p>It is done only where it is safe: on Linux, when the user has not set {@code POCL_AFFINITY} (their choice,
 * either way, stands), and when this process may run on every online CPU, numbered 0..n-1, with at most n workers.
 * PoCL pins worker i to CPU i and aborts the process if that fails, so under a CPU set (taskset, a container's cpuset)
 * that lacks CPU i nothing is set. The variable is set once, from the thread that opens OpenCL first, before any
 * native library reads it.
 */
public final class PoclWorkerPinning {
    private static final Logger log = LoggerFactory.getLogger(PoclWorkerPinning.class);
    static final String POCL_AFFINITY = "POCL_AFFINITY", REQUEST = "OFFLOAD_POCL_AFFINITY", MAX_THREADS = "POCL_MAX_PTHREAD_COUNT";
    private static boolean applied;

    private PoclWorkerPinning() {}

    /** Sets POCL_AFFINITY=1 where it is asked for and {@link #decide} allows it; at most once per process. */
    static synchronized void applyOnce() {
        if (applied) return;
        applied = true;
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) return;
        Optional<String> why = decide(System.getenv(), read(Path.of("/proc/self/status")), read(Path.of("/sys/devices/system/cpu/online")));
        if (why.isPresent()) {
            log.debug("PoCL worker threads are not pinned: {}", why.get());
            return;
        }
        try {
            setenv(POCL_AFFINITY, "1");
            log.debug("PoCL worker threads are pinned one to a CPU (POCL_AFFINITY=1)");
        } catch (Throwable e) {   // no libc setenv: leave the environment as it is
            log.debug("could not set POCL_AFFINITY: {}", e.toString());
        }
    }

    /**
     * Whether pinning is asked for and safe: empty when it is, else why not.
     *
     * @param env    the process environment
     * @param status /proc/self/status (its Cpus_allowed_list line), or null when unreadable
     * @param online /sys/devices/system/cpu/online, or null when unreadable
     */
    static Optional<String> decide(Map<String, String> env, String status, String online) {
        if (env.containsKey(POCL_AFFINITY)) return Optional.of(POCL_AFFINITY + " is set by the user");
        if (!"1".equals(env.get(REQUEST))) return Optional.of("not asked for (" + REQUEST + "=1 asks)");
        if (status == null || online == null) return Optional.of("the CPU lists cannot be read");
        String allowedList = status.lines().filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst()
                .map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse(null);
        BitSet allowed = allowedList == null ? null : cpuList(allowedList), on = cpuList(online.strip());
        if (allowed == null || on == null) return Optional.of("unparsable CPU lists");
        int n = on.cardinality();
        if (n < 2) return Optional.of("one online CPU: nothing to pin");
        if (on.nextClearBit(0) != n) return Optional.of("the online CPUs are not 0.." + (n - 1) + " (" + online.strip() + ")");
        if (!allowed.equals(on)) return Optional.of("this process may run only on CPUs " + allowedList);
        String max = env.get(MAX_THREADS);
        if (max != null) {
            try {
                if (Integer.parseInt(max.strip()) > n) return Optional.of(MAX_THREADS + "=" + max + " exceeds the " + n + " CPUs");
            } catch (NumberFormatException e) {
                return Optional.of(MAX_THREADS + " is not a number");
            }
        }
        return Optional.empty();
    }

    /** A Linux CPU list such as {@code 0-3,8,10-11}; null when it is not one. */
    static BitSet cpuList(String list) {
        BitSet out = new BitSet();
        if (list.isEmpty()) return null;
        try {
            for (String part : list.split(",")) {
                int dash = part.indexOf('-');
                int lo = Integer.parseInt(dash < 0 ? part.strip() : part.substring(0, dash).strip());
                int hi = dash < 0 ? lo : Integer.parseInt(part.substring(dash + 1).strip());
                if (lo < 0 || hi < lo || hi > 1 << 16) return null;
                out.set(lo, hi + 1);
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return out;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** libc setenv(name, value, 0): never replaces a value that is there. */
    private static void setenv(String name, String value) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MemorySegment fn = linker.defaultLookup().find("setenv").orElseThrow(() -> new IllegalStateException("no setenv"));
        MethodHandle h = linker.downcallHandle(fn, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) h.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 0);
            if (rc != 0) throw new IllegalStateException("setenv returned " + rc);
        }
    }
}
