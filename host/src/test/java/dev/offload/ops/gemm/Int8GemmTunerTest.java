package dev.offload.ops.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.device.PoclCpuDevice;
import dev.offload.tuning.TunedEntry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The tuner: candidates are checked before they are timed; a wrong one is rejected and never wins. */
class Int8GemmTunerTest {
    @RegisterExtension static final PoclCpuDevice cpu = new PoclCpuDevice();

    @Test
    void aCandidateThatComputesWrongValuesIsRejectedReportedAndNeverWins() {
        GemmConfig broken = GemmConfig.forDevice(cpu.device().info()); // tried first, so the small budget reaches it
        // The hook: this one candidate runs with A's zero point off by one, as a miscompiled kernel might.
        Int8GemmTuner.Launch launch = (gemm, a, aType, m, za, w, out) -> gemm.config().equals(broken)
                ? gemm.run(a, aType, m, ZeroPoint.scalar(za.at(0, 0) + 1), w, Epilogue.INT32, out)
                : gemm.run(a, aType, m, za, w, Epilogue.INT32, out);
        List<Int8GemmTuner.Outcome> heard = new ArrayList<>();
        // The budget must outlast the broken candidate and one more, cold: on a fresh machine PoCL compiles the
        // AMX default in about 4 s, so a 4 s budget left nothing for a second candidate (CI failure, 2026-12-02).
        Int8GemmTuner.Result result = new Int8GemmTuner(cpu.device(), new Int8GemmTuner.Options(true, Duration.ofSeconds(20), 1, 5), launch)
                .tune(heard::add);

        assertEquals(result.outcomes(), heard);
        Int8GemmTuner.Outcome first = result.outcomes().getFirst();
        assertEquals(broken, first.config());
        assertEquals(Int8GemmTuner.Status.WRONG, first.status());
        assertTrue(first.detail().contains("differ"), first.detail());
        assertTrue(first.gops().isEmpty(), "a wrong candidate is not timed");

        Int8GemmTuner.Outcome winner = result.winner().orElseThrow(() -> new AssertionError("no other candidate passed: " + result.outcomes()));
        assertNotEquals(broken, winner.config());
        assertTrue(winner.status() == Int8GemmTuner.Status.PASSED || winner.status() == Int8GemmTuner.Status.FINALIST, winner.toString());
        assertTrue(result.outcomes().stream().noneMatch(o -> o.status() == Int8GemmTuner.Status.FINALIST && o.config().equals(broken)));
        assertEquals(Int8GemmTuner.QUICK_SHAPES.size(), winner.gops().size());
        assertTrue(winner.gops().values().stream().allMatch(g -> g > 0));
        // Whether the 20 s budget runs out depends on the machine's speed; what is certain is that candidates the
        // budget did not reach are listed as skipped and never timed.
        assertTrue(result.outcomes().stream().filter(o -> o.status() == Int8GemmTuner.Status.SKIPPED)
                .allMatch(o -> o.gops().isEmpty()), "skipped candidates carry no timings");

        TunedEntry e = Int8GemmTuner.entry(result, winner);
        assertEquals(cpu.device().info().name(), e.device());
        assertEquals(cpu.device().info().driverVersion(), e.driver());
        assertEquals(winner.config(), GemmConfig.fromParams(e));
        assertTrue(e.note().contains("1 rejected"), e.note());
    }

    @Test
    void theSearchSpaceStartsWithTheDefaultAndHoldsOnlyBlocksTheKernelAccepts() {
        DeviceInfo info = cpu.device().info();
        List<DirectGemmConfig> full = Int8GemmTuner.blocks(info, false);
        assertEquals(GemmConfig.forDevice(info), full.getFirst());
        assertEquals(full.size(), full.stream().distinct().count());
        assertTrue(full.stream().allMatch(c -> c.runsOn(info)));
        for (GemmConfig.InnerLoop loop : Int8GemmTuner.innerLoops(info)) {
            assertTrue(full.stream().anyMatch(c -> c.innerLoop() == loop), "inner loop " + loop + " is searched");
        }
        assertTrue(full.stream().anyMatch(c -> c.mr() == 1) && full.stream().anyMatch(c -> c.mr() == 8));
        assertTrue(Int8GemmTuner.blocks(info, true).size() < full.size());
        assertFalse(Int8GemmTuner.innerLoops(info).isEmpty());
    }

    @Test
    void gpusSearchTheTiledFamilyFirstAndCpusOnlyWhenAsked() {
        DeviceInfo info = cpu.device().info();
        Int8GemmTuner.Options plain = new Int8GemmTuner.Options(false, Duration.ofSeconds(1), 1, 7);
        assertTrue(Int8GemmTuner.candidates(info, plain).stream().allMatch(c -> c instanceof DirectGemmConfig), "a CPU searches the direct family");

        List<GemmConfig> tiledOnCpu = Int8GemmTuner.candidates(info, new Int8GemmTuner.Options(false, Duration.ofSeconds(1), 1, 7, Int8GemmTuner.Search.TILED));
        assertTrue(tiledOnCpu.stream().allMatch(c -> c instanceof TiledGemmConfig), tiledOnCpu.toString());
        assertEquals(TiledGemmConfig.forDevice(info), tiledOnCpu.getFirst());
        assertTrue(tiledOnCpu.size() <= 5, "local-memory tiles are slow on a CPU: a handful, got " + tiledOnCpu.size());

        DeviceInfo gpu = GemmConfigResolveTest.copy(info, DeviceType.GPU, info.driverVersion());
        List<GemmConfig> onGpu = Int8GemmTuner.candidates(gpu, plain);
        assertEquals(GemmConfig.forDevice(gpu), onGpu.getFirst());
        assertTrue(onGpu.getFirst() instanceof TiledGemmConfig, "the GPU default is tiled");
        long tiled = onGpu.stream().filter(c -> c instanceof TiledGemmConfig).count();
        assertEquals(Int8GemmTuner.TILED_CANDIDATES, tiled, "a sample of the tiled grid");
        assertTrue(onGpu.stream().anyMatch(c -> c instanceof DirectGemmConfig), "the direct family is searched too");
        assertTrue(onGpu.stream().allMatch(c -> c.runsOn(gpu)));
        assertEquals(onGpu.size(), onGpu.stream().distinct().count());
        assertTrue(onGpu.stream().anyMatch(c -> c instanceof TiledGemmConfig t && !t.sa() && !t.sb()), "SA = SB = 0 is in the sample");
        assertEquals(onGpu, Int8GemmTuner.candidates(gpu, plain), "the sample is seeded");
    }
}
