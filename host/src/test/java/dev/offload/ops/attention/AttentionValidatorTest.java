package dev.offload.ops.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.testing.CpuDeviceFixture;
import dev.offload.validate.CheckResult;
import dev.offload.validate.ValidationOptions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class AttentionValidatorTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    @Test
    void quickSubsetPassesAndRunsTheTiledKernelForced() {
        List<CheckResult> results = new AttentionValidator().validate(CL.device(), new ValidationOptions(42, true));
        // 13 fused, 3 unfused, 8 attention_tiled (the GPU default tile five times, two of them split, the odd tile
        // three times), and 3 decode steps over a device KV cache, each judged on its output, the keys and the values it
        // leaves; sliding windows in 17 of them, soft-capped scores in 5.
        assertEquals(33, results.size(), "cases");
        for (CheckResult r : results) assertTrue(r.passed(), r.toString());
        assertEquals(8, results.stream().filter(r -> r.shape().startsWith("tiled 16x32/16 ") || r.shape().startsWith("tiled 5x12/4 ")).count(),
                results.toString());
        assertEquals(9, results.stream().filter(r -> r.shape().contains("decode step over a device KV cache")).count(), results.toString());
        assertEquals(17, results.stream().filter(r -> r.shape().contains("window")).count(), results.toString());
        assertEquals(5, results.stream().filter(r -> r.shape().contains("softcap")).count(), results.toString());
    }
}
