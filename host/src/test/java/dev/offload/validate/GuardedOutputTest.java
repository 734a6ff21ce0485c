package dev.offload.validate;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The validation machinery itself must catch the kernel bugs it exists for. */
class GuardedOutputTest {
    static final String KERNELS = """
            __kernel void fill_first(__global int* out, int n) { int i = get_global_id(0); if (i < n) out[i] = i; }
            __kernel void write_past_end(__global int* out, int n) { int i = get_global_id(0); if (i <= n) out[i] = i; }
            __kernel void write_before_start(__global int* out, int n) { int i = get_global_id(0); if (i < n) out[i - 1] = i; }
            """;
    static OpenClDevice device;
    static Program program;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        program = device.context().buildProgram(KERNELS, "");
    }

    @AfterAll
    static void close() {
        program.close();
        device.close();
    }

    private CheckResult run(String kernel, int launched, int n) {
        int[] want = new int[n];
        for (int i = 0; i < n; i++) want[i] = i;
        try (GuardedOutput out = GuardedOutput.ints(device, n); Kernel k = program.kernel(kernel)) {
            k.arg(0, out.buffer()).arg(1, launched);
            device.queue().run(k, new long[] {Math.max(launched, n) + 1}, null);
            device.queue().finish();
            return Compare.exact("t", "n=" + n, device.spec(), want, out.readInts(), out.guardsIntact());
        }
    }

    @Test
    void aCorrectKernelPasses() {
        assertTrue(run("fill_first", 100, 100).passed());
    }

    @Test
    void elementsLeftUnwrittenFailBecauseOfThePoison() {
        CheckResult r = run("fill_first", 99, 100);
        assertFalse(r.passed());
        assertTrue(r.detail().contains("poison"), r.detail());
    }

    @Test
    void aWritePastTheEndIsCaughtByTheTrailingGuard() {
        CheckResult r = run("write_past_end", 100, 100);
        assertFalse(r.passed());
        assertTrue(r.detail().contains("out-of-bounds"), r.detail());
    }

    @Test
    void aWriteBeforeTheStartIsCaughtByTheLeadingGuard() {
        assertFalse(run("write_before_start", 100, 100).passed());
    }

    @Test
    void floatPoisonNeverPassesAsAResult() {
        float[] want = {1f, 2f};
        float[] poisoned = {1f, Float.intBitsToFloat(0x7FC0DEAD)};
        assertFalse(Compare.relative("t", "2", "d", want, poisoned, 1e3, true).passed());
        assertTrue(Compare.relative("t", "2", "d", want, new float[] {1f, 2.000001f}, 1e-6, true).passed());
    }
}
