package dev.offload.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.DeviceInfo;
import dev.offload.cl.Kernel;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.gemm.DirectGemmConfig;
import dev.offload.ops.gemm.GemmConfig;
import dev.offload.validate.CheckResult;
import dev.offload.validate.Validation;
import dev.offload.validate.ValidationOptions;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The FPGA kernel style on PoCL: every family's single work-item variant (-D OFFLOAD_FPGA=1,
 * reqd_work_group_size(1,1,1), launched with local size 1) gives the reference results.
 */
class FpgaKernelStyleTest {
    private static OpenClDevice device;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        device.kernelStyle(KernelStyle.FPGA);
    }

    @AfterAll
    static void close() { device.close(); }

    @Test
    void everyFamilyValidatesInFpgaStyleOnQuickShapes() {
        List<CheckResult> results = Validation.run(List.of(device), Set.of(), new ValidationOptions(7, true));
        Set<String> ops = results.stream().map(CheckResult::op).collect(Collectors.toSet());
        assertTrue(ops.containsAll(Set.of("int8_gemm", "blockq", "spmm", "attention", "quantize", "smoke")), ops.toString());
        List<CheckResult> failed = results.stream().filter(r -> !r.passed()).toList();
        assertTrue(failed.isEmpty(), failed.toString());
    }

    @Test
    void fpgaStyleProgramsRequireSingleWorkItemGroups() {
        try (Kernel k = device.program(KernelFamily.INT8_GEMM, GemmConfig.forDevice(device.info(), KernelStyle.FPGA).defines()
                + " -D EPILOGUE_INT32").kernel("int8_gemm")) {
            assertArrayEquals(new long[] {1, 1, 1}, k.requiredWorkGroupSize());
        }
        try (Kernel k = device.program(KernelFamily.SPMM, "").kernel("spmm_csr_f32")) {
            assertArrayEquals(new long[] {1, 1, 1}, k.requiredWorkGroupSize());
        }
    }

    @Test
    void fpgaStyleGemmUsesNoX86PathAndNoWorkGroupSize() {
        // The direct family whatever the device type: the tiled one needs work-groups that share local memory.
        DirectGemmConfig c = assertInstanceOf(DirectGemmConfig.class, GemmConfig.forDevice(device.info(), KernelStyle.FPGA));
        assertFalse(c.panels(), c.describe());
        assertEquals(GemmConfig.InnerLoop.AUTO, c.innerLoop()); // the kernel turns vpmaddwd off under OFFLOAD_FPGA
        assertEquals(0, c.localColumns());
    }

    @Test
    void styleAddsItsDefineAndLocalSizeOnlyInFpgaStyle() {
        assertEquals("-D MR=4 -D OFFLOAD_FPGA=1", KernelStyle.FPGA.apply("-D MR=4"));
        assertEquals("-D OFFLOAD_FPGA=1", KernelStyle.FPGA.apply(""));
        assertEquals("-D MR=4", KernelStyle.PORTABLE.apply("-D MR=4"));
        assertArrayEquals(new long[] {1, 1}, KernelStyle.FPGA.local(new long[] {37, 5}, new long[] {16, 1}));
        assertArrayEquals(new long[] {16, 1}, KernelStyle.PORTABLE.local(new long[] {37, 5}, new long[] {16, 1}));
        DeviceInfo cpu = device.info();
        assertEquals(KernelStyle.PORTABLE, KernelStyle.forDevice(cpu, (KernelStyle) null));
        assertEquals(KernelStyle.FPGA, KernelStyle.forDevice(cpu, KernelStyle.parse("FPGA", "OFFLOAD_KERNEL_STYLE")));
        assertThrows(IllegalArgumentException.class, () -> KernelStyle.parse("gpu", "OFFLOAD_KERNEL_STYLE"));
    }

    @Test
    void fpgaStyleRunsThroughJoclToo() {
        try (OpenClDevice jocl = new OpenClDevice(DeviceRegistry.discover(Binding.JOCL).resolve("cl:cpu").orElseThrow())) {
            jocl.kernelStyle(KernelStyle.FPGA);
            List<CheckResult> results = Validation.run(List.of(jocl), Set.of("spmm"), new ValidationOptions(3, true));
            assertFalse(results.isEmpty());
            assertTrue(results.stream().allMatch(CheckResult::passed), results.toString());
        }
    }
}
