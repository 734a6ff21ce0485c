package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.attention.AttentionConfig;
import dev.offload.ops.gemm.GemmConfig;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.PackedWeights;
import dev.offload.ops.gemm.TiledGemmConfig;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.tuning.TunedEntry;
import dev.offload.tuning.TuningDb;
import dev.offload.tuning.TuningStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code offload tune}: writes a database entry the runtime then uses. */
class TuneCommandTest {
    @TempDir Path dir;

    @Test
    void quickTuneWritesAnEntryForThisDeviceThatTheRuntimeThenUses() {
        Path db = dir.resolve("tuning.json");
        CliRun r = CliRun.of("tune", "--binding", "jocl", "--device", "cl:cpu", "--quick",
                "--ops", "int8_gemm,attention", "--budget", "40", "--reps", "1", "--db", db.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("passed") && r.out().contains("stored in " + db), r.out());
        assertTrue(Files.exists(db));

        try (OpenClDevice device = new OpenClDevice(DeviceRegistry.discover(Binding.JOCL).resolve("cl:cpu").orElseThrow())) {
            TunedEntry entry = TuningDb.read(db).find(GemmConfig.OP, device.info().name(), device.info().driverVersion()).orElseThrow();
            assertFalse(entry.gops().isEmpty());
            GemmConfig.Choice choice = GemmConfig.resolve(device.info(), TuningStore.of(db));
            assertEquals(TuningStore.Source.TUNED, choice.source());
            assertEquals(GemmConfig.fromParams(entry), choice.config());
            assertTrue(r.out().contains("the runtime now uses " + choice.describe()), r.out());
            AttentionConfig.Choice attention = AttentionConfig.resolve(device.info(), TuningStore.of(db));
            assertEquals(TuningStore.Source.TUNED, attention.source());
            assertTrue(r.out().contains("attention: winner " + attention.config().describe()), r.out());

            Random rnd = new Random(3);
            byte[] ad = new byte[33 * 71], bd = new byte[71 * 50];
            rnd.nextBytes(ad);
            rnd.nextBytes(bd);
            Int8Matrix a = new Int8Matrix(QuantType.UINT8, 33, 71, ad), b = new Int8Matrix(QuantType.INT8, 71, 50, bd);
            Int8Gemm gemm = new Int8Gemm(device, choice.config());
            try (PackedWeights w = gemm.pack(b, ZeroPoint.scalar(-3))) {
                assertArrayEquals(Int8GemmReference.matmulInteger(a, ZeroPoint.scalar(120), b, ZeroPoint.scalar(-3)),
                        gemm.matmulInteger(a, ZeroPoint.scalar(120), w));
            }
        }
    }

    @Test
    void familyTiledSearchesTheLocalMemoryKernelsOnACpuAndStoresATiledEntry() {
        Path db = dir.resolve("tuning.json");
        CliRun r = CliRun.of("tune", "--device", "cl:cpu", "--quick", "--ops", "int8_gemm", "--family", "tiled",
                "--budget", "30", "--reps", "1", "--db", db.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("tiled 64x64x32 wi16x16 vw4/4 sAB"), r.out());
        assertFalse(r.out().contains("X86_") || r.out().contains(" AUTO "), "direct candidates were searched: " + r.out());
        try (OpenClDevice device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow())) {
            GemmConfig.Choice choice = GemmConfig.resolve(device.info(), TuningStore.of(db));
            assertEquals(TuningStore.Source.TUNED, choice.source());
            assertTrue(choice.config() instanceof TiledGemmConfig, choice.describe());
        }
    }

    @Test
    void anUnknownFamilyIsOneLineAndExitCode2() {
        CliRun r = CliRun.of("tune", "--family", "systolic", "--db", dir.resolve("t.json").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--family systolic") && r.err().contains("tiled"), r.err());
        assertFalse(Files.exists(dir.resolve("t.json")));
    }

    @Test
    void anUnknownOpOrABadBudgetIsOneLineAndExitCode2() {
        CliRun r = CliRun.of("tune", "--ops", "conv2d", "--db", dir.resolve("t.json").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("conv2d") && r.err().contains("int8_gemm"), r.err());
        CliRun b = CliRun.of("tune", "--budget", "0", "--db", dir.resolve("t.json").toString());
        assertEquals(2, b.exit());
        assertTrue(b.err().contains("--budget"), b.err());
        assertFalse(Files.exists(dir.resolve("t.json")));
    }
}
