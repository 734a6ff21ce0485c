package dev.offload.ops.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.offload.testing.CpuDeviceFixture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A device's GEMM configuration is resolved (its tuning store read) once, however many GEMMs are made for it. */
class DeviceGemmConfigsTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    @Test
    void theTuningStoreIsReadOncePerDevice() {
        AtomicInteger reads = new AtomicInteger();
        DeviceGemmConfigs configs = new DeviceGemmConfigs(info -> {
            reads.incrementAndGet();
            return GemmConfig.resolve(info);
        });
        GemmConfig first = Int8Gemm.on(CL.device(), configs).config();
        for (int i = 0; i < 12; i++) assertSame(first, Int8Gemm.on(CL.device(), configs).config());
        assertEquals(1, reads.get(), "one read of the tuning store for 13 GEMMs on one device");
        assertEquals(GemmConfig.resolve(CL.device().info()).config(), first, "the same configuration a fresh read gives");
    }

    @Test
    void theStandardConfigurationsAreSharedToo() {
        // GemmConfig.resolve builds a new record on every read: the same instance twice means one read.
        assertSame(Int8Gemm.on(CL.device()).config(), Int8Gemm.on(CL.device()).config());
        assertSame(DeviceGemmConfigs.standard().choice(CL.device()), DeviceGemmConfigs.standard().choice(CL.device()));
    }
}
