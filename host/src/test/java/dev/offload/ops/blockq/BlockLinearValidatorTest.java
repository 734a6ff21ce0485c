package dev.offload.ops.blockq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.testing.CpuDeviceFixture;
import dev.offload.validate.CheckResult;
import dev.offload.validate.ValidationOptions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class BlockLinearValidatorTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static void assertAllPass(boolean quick, int cases) {
        List<CheckResult> results = new BlockLinearValidator().validate(CL.device(), new ValidationOptions(42, quick));
        assertEquals(cases, results.size(), "cases");
        for (CheckResult r : results) assertTrue(r.passed(), r.toString());
    }

    @Test
    void fullSweepPasses() {
        // The sweeps (Q8_0/Q4_0, K-quants); per format two non-finite cases, two groups and a residual; Q8_0 and Q4_0
        // also 4 prefill shapes (bound, panel bits), a prefill group and a prefill residual; the GPU matvec forced,
        // per Q8_0/Q4_0: its sweep, a bit-exact single-lane case, a non-finite case, a group and a residual.
        assertAllPass(false, 2 * 4 * 3 * 4 + 2 * 3 * 3 * 4 + 4 * 2 + 4 * 3 + 2 * (4 * 2 + 2) + 2 * (3 * 3 * 4 + 4));
    }

    // Per format: 3 shapes, a non-finite case, a group, a residual; Q8_0/Q4_0 a prefill shape (bound, panel bits), a
    // group and a residual; the GPU matvec's 2 shapes and 4 more per Q8_0/Q4_0.
    @Test
    void quickSubsetPasses() { assertAllPass(true, 4 * 3 + 4 + 4 * 2 + 2 * (2 + 2) + 2 * (2 + 4)); }
}
