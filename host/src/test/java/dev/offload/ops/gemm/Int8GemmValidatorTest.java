package dev.offload.ops.gemm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.quant.QuantizeValidator;
import dev.offload.validate.CheckResult;
import dev.offload.validate.OpValidator;
import dev.offload.validate.ValidationOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

class Int8GemmValidatorTest {
    private static void assertAllPass(OpValidator v, boolean quick, int atLeast) {
        try (OpenClDevice d = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow())) {
            List<CheckResult> results = v.validate(d, new ValidationOptions(42, quick));
            assertTrue(results.size() >= atLeast, v.op() + " ran only " + results.size() + " checks");
            for (CheckResult r : results) assertTrue(r.passed(), r.toString());
        }
    }

    @Test
    void gemmValidatorFullSweepPasses() { assertAllPass(new Int8GemmValidator(), false, 20); }

    @Test
    void gemmValidatorQuickSubsetPasses() { assertAllPass(new Int8GemmValidator(), true, 4); }

    @Test
    void quantizeValidatorFullSweepPasses() { assertAllPass(new QuantizeValidator(), false, 20); }
}
