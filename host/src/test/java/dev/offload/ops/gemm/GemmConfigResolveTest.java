package dev.offload.ops.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.offload.cl.Binding;
import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.quant.QuantType;
import dev.offload.tuning.TunedEntry;
import dev.offload.tuning.TuningDb;
import dev.offload.tuning.TuningStore;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GemmConfig.resolve: a tuned entry for this device and driver, else the repository's, else the defaults. */
class GemmConfigResolveTest {
    private static OpenClDevice device;
    @TempDir Path dir;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
    }

    @AfterAll
    static void close() { device.close(); }

    static TunedEntry entry(DeviceInfo info, String driver, GemmConfig c) {
        return new TunedEntry(GemmConfig.OP, info.name(), driver, c.toParams(), null, null, null);
    }

    /** The same device as reported by another driver version or as another type. */
    static DeviceInfo copy(DeviceInfo i, DeviceType type, String driver) { return dev.offload.testing.DeviceInfos.as(i, type, i.vendor(), driver); }

    @Test
    void anEntryForThisDeviceAndDriverIsUsedAndTheGemmItConfiguresIsExact() {
        DeviceInfo info = device.info();
        GemmConfig tuned = new DirectGemmConfig(2, 8, GemmConfig.InnerLoop.PORTABLE, 32);
        Path cache = dir.resolve("tuning.json");
        TuningDb.empty().with(entry(info, info.driverVersion(), tuned)).write(cache);

        GemmConfig.Choice choice = GemmConfig.resolve(info, TuningStore.of(cache));
        assertEquals(tuned, choice.config());
        assertEquals(TuningStore.Source.TUNED, choice.source());

        Random rnd = new Random(17);
        Int8Matrix a = Int8GemmTest.random(rnd, QuantType.UINT8, 23, 97), b = Int8GemmTest.random(rnd, QuantType.INT8, 97, 41);
        ZeroPoint za = ZeroPoint.scalar(131), zb = ZeroPoint.perColumn(Int8GemmTest.randomInts(rnd, 41, QuantType.INT8));
        Int8Gemm gemm = new Int8Gemm(device, choice.config());
        try (PackedWeights w = gemm.pack(b, zb)) {
            assertArrayEquals(Int8GemmReference.matmulInteger(a, za, b, zb), gemm.matmulInteger(a, za, w));
        }
    }

    @Test
    void theRepositoryEntryIsUsedWhenTheUserCacheHasNone() {
        DeviceInfo info = device.info();
        GemmConfig db = new DirectGemmConfig(8, 2, GemmConfig.InnerLoop.AUTO, 8);
        TuningStore store = new TuningStore(dir.resolve("absent.json"), TuningDb.empty().with(entry(info, info.driverVersion(), db)));
        GemmConfig.Choice choice = GemmConfig.resolve(info, store);
        assertEquals(db, choice.config());
        assertEquals(TuningStore.Source.DB, choice.source());
    }

    @Test
    void entriesForOtherDriverVersionsAreIgnored() {
        DeviceInfo info = device.info();
        Path cache = dir.resolve("tuning.json");
        TuningDb.empty().with(entry(info, info.driverVersion() + "-older", new DirectGemmConfig(1, 2, GemmConfig.InnerLoop.PORTABLE, 8))).write(cache);
        GemmConfig.Choice choice = GemmConfig.resolve(info, new TuningStore(cache, TuningDb.empty()));
        assertEquals(TuningStore.Source.DEFAULT, choice.source());
        assertEquals(GemmConfig.forDevice(info), choice.config());

        DeviceInfo newer = copy(info, info.type(), info.driverVersion() + "-older");
        assertEquals(TuningStore.Source.TUNED, GemmConfig.resolve(newer, TuningStore.of(cache)).source());
    }

    @Test
    void anEntryTheDeviceCannotRunOrWithBadValuesFallsBackToTheDefaults() {
        DeviceInfo info = device.info();
        DeviceInfo gpu = copy(info, DeviceType.GPU, info.driverVersion());
        TuningStore vnni = new TuningStore(null, TuningDb.empty().with(entry(gpu, gpu.driverVersion(),
                new DirectGemmConfig(4, 32, GemmConfig.InnerLoop.X86_VNNI, 16))));
        GemmConfig.Choice choice = GemmConfig.resolve(gpu, vnni);
        assertEquals(TuningStore.Source.DEFAULT, choice.source());
        assertEquals(GemmConfig.forDevice(gpu), choice.config());

        TunedEntry broken = new TunedEntry(GemmConfig.OP, info.name(), info.driverVersion(),
                Map.of("mr", 99, "nr", 4, "innerLoop", "AUTO", "localColumns", 64), null, null, null);
        assertEquals(TuningStore.Source.DEFAULT, GemmConfig.resolve(info, new TuningStore(null, TuningDb.empty().with(broken))).source());
    }
}
