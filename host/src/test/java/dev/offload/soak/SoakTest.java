package dev.offload.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.testing.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounded long run: 20 000 graph runs of a tiny encoder on OpenCL in a JVM of its own ({@link SoakRun}), every
 * result the same bits, and memory flat over the last 15 000 runs (from a quarter and from half of the runs to the
 * end): the heap after full collections within 1 MiB, the JVM's native memory outside the heap (NMT) within 4 MiB, the
 * resident set (which also counts the driver's allocations) within 4 MiB: a leak of 300 bytes a run shows.
 *
 * <p>With glibc's default of an allocation arena per thread, PoCL's worker threads grow the resident set towards a
 * high-water mark for the first ~20 000 runs (measured: flat from there to 100 000), which would hide a leak's
 * slope; with one arena ({@code MALLOC_ARENA_MAX=1}) it is reached within the first quarter. The heap is fixed and
 * touched up front ({@code -Xms = -Xmx}, {@code AlwaysPreTouch}), so that its growth is not mistaken for one.
 */
class SoakTest {
    static final int RUNS = Integer.getInteger("offload.soak.runs", 20_000);
    @TempDir Path dir;

    @Test
    void twentyThousandRunsKeepHeapAndNativeMemoryFlat() throws Exception {
        ChildJvm.Result r = ChildJvm.in(dir).timeout(Duration.ofMinutes(5)).jvmOption("-Xms128m").jvmOption("-Xmx128m")
                .jvmOption("-XX:+AlwaysPreTouch")
                .jvmOption("-XX:NativeMemoryTracking=summary")
                .env("MALLOC_ARENA_MAX", "1").main(SoakRun.class.getName(), Integer.toString(RUNS));
        r.assertSurvived();
        assertEquals(0, r.exit(), r.err());
        JsonNode report = new ObjectMapper().readTree(r.out().lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow());
        System.out.println("soak: " + report);
        JsonNode warm = report.get("checkpoints").get(0), mid = report.get("checkpoints").get(1), end = report.get("checkpoints").get(2);
        assertEquals(RUNS, end.get("runs").asInt());
        for (JsonNode from : new JsonNode[] {warm, mid}) {
            String span = from.get("runs").asInt() + " to " + RUNS + " runs: ";
            assertGrowth(span + "heap after GC", from, end, "heapBytes", 1L << 20);
            assertGrowth(span + "native memory outside the heap (NMT)", from, end, "nmtNonHeapBytes", 4L << 20);
            assertGrowth(span + "resident set", from, end, "rssBytes", 4L << 20);
        }
    }

    private static void assertGrowth(String what, JsonNode from, JsonNode to, String field, long limit) {
        long growth = to.get(field).asLong() - from.get(field).asLong();
        assertTrue(growth <= limit, what + " grew by " + growth + " bytes (limit " + limit + "): " + from + " -> " + to);
    }
}
