package dev.offload.ops.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.validate.CheckResult;
import dev.offload.validate.ValidationOptions;
import dev.offload.validate.Validators;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The spmm validator is registered and its quick sweep (the sparse linear layers included) passes on the CPU device. */
class SpmmValidatorTest {

    @Test
    void quickSweepCoversEveryFormatAndTypeAndPassesOnTheCpuDevice() {
        assertTrue(Validators.all().stream().anyMatch(v -> v.op().equals("spmm")));
        try (OpenClDevice d = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow())) {
            List<CheckResult> results = new SpmmValidator().validate(d, new ValidationOptions(7, true));
            assertEquals(2 * 6 * 3 + 1 + 3 * 5, results.size());
            for (CheckResult r : results) assertTrue(r.passed(), r.toString());
            for (String f : List.of("csr ", "bsr:3x5 ", "2:4 ", "dequantize", "linear bsr:16x4 ", "linear bsr:32x4 ", "linear csr ", "linear 2:4 ")) {
                assertTrue(results.stream().anyMatch(r -> r.shape().startsWith(f)), f);
            }
        }
    }
}
