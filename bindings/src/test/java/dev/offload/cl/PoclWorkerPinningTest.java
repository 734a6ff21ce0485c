package dev.offload.cl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PoclWorkerPinningTest {
    private static final String ALL_TWO = "Name:\tjava\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n";

    private static final Map<String, String> ASKED = Map.of("OFFLOAD_POCL_AFFINITY", "1");

    @Test
    void pinsWhenAskedAndTheProcessMayRunOnEveryOnlineCpu() {
        assertTrue(PoclWorkerPinning.decide(ASKED, ALL_TWO, "0-1\n").isEmpty());
        assertTrue(PoclWorkerPinning.decide(Map.of("OFFLOAD_POCL_AFFINITY", "1", "POCL_MAX_PTHREAD_COUNT", "2"), ALL_TWO, "0-1").isEmpty());
        assertTrue(PoclWorkerPinning.decide(ASKED, "Cpus_allowed_list:\t0-3,4-7\n", "0-7").isEmpty());
    }

    @Test
    void notAskedForNothingIsPinned() {
        assertEquals("not asked for (OFFLOAD_POCL_AFFINITY=1 asks)", PoclWorkerPinning.decide(Map.of(), ALL_TWO, "0-1").orElseThrow());
        assertTrue(PoclWorkerPinning.decide(Map.of("OFFLOAD_POCL_AFFINITY", "0"), ALL_TWO, "0-1").isPresent());
    }

    @Test
    void theUsersOwnSettingStandsEitherWay() {
        assertEquals("POCL_AFFINITY is set by the user",
                PoclWorkerPinning.decide(Map.of("POCL_AFFINITY", "0", "OFFLOAD_POCL_AFFINITY", "1"), ALL_TWO, "0-1").orElseThrow());
        assertEquals("POCL_AFFINITY is set by the user", PoclWorkerPinning.decide(Map.of("POCL_AFFINITY", "1"), ALL_TWO, "0-1").orElseThrow());
    }

    @Test
    void neverPinsWherePoclWouldAbort() {
        // PoCL pins worker i to CPU i and aborts if it cannot: a CPU set without CPU 0, or more workers than CPUs.
        assertTrue(PoclWorkerPinning.decide(ASKED, "Cpus_allowed_list:\t2-3\n", "0-3").orElseThrow().contains("only on CPUs 2-3"));
        assertTrue(PoclWorkerPinning.decide(ASKED, "Cpus_allowed_list:\t0\n", "0-1").isPresent());
        assertTrue(PoclWorkerPinning.decide(ASKED, "Cpus_allowed_list:\t0,2\n", "0,2").orElseThrow().contains("not 0..1"));
        assertTrue(PoclWorkerPinning.decide(Map.of("OFFLOAD_POCL_AFFINITY", "1", "POCL_MAX_PTHREAD_COUNT", "4"), ALL_TWO, "0-1").orElseThrow().contains("exceeds"));
        assertTrue(PoclWorkerPinning.decide(Map.of("OFFLOAD_POCL_AFFINITY", "1", "POCL_MAX_PTHREAD_COUNT", "many"), ALL_TWO, "0-1").isPresent());
        assertTrue(PoclWorkerPinning.decide(ASKED, "Cpus_allowed_list:\t0\n", "0").orElseThrow().contains("one online CPU"));
        assertTrue(PoclWorkerPinning.decide(ASKED, null, "0-1").isPresent());
        assertTrue(PoclWorkerPinning.decide(ASKED, "Name:\tjava\n", "0-1").isPresent());
        assertTrue(PoclWorkerPinning.decide(ASKED, ALL_TWO, "0-x").isPresent());
    }

    @Test
    void readsLinuxCpuLists() {
        BitSet s = PoclWorkerPinning.cpuList("0-3,8,10-11");
        assertEquals("{0, 1, 2, 3, 8, 10, 11}", s.toString());
        assertNull(PoclWorkerPinning.cpuList(""));
        assertNull(PoclWorkerPinning.cpuList("3-1"));
        assertNull(PoclWorkerPinning.cpuList("a"));
    }
}
