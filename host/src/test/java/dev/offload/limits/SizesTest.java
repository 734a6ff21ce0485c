package dev.offload.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Buffer;
import dev.offload.testing.CpuDeviceFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Sizes are checked in long arithmetic against the array, heap and device limits, and every refusal names its thing. */
class SizesTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static String refusal(Runnable r) { return assertThrows(SizeLimitException.class, r::run).getMessage(); }

    @Test
    void productsAndByteCountsThatOverflowAreRefusedNotWrapped() {
        assertEquals(6L << 40, Sizes.elements("x", 3, 2, 1L << 40));
        assertTrue(refusal(() -> Sizes.elements("a.npy", 1L << 32, 1L << 32, 16)).startsWith("a.npy: shape [4294967296, 4294967296, 16] has more than 2^63"));
        assertTrue(refusal(() -> Sizes.elements("a.npy", 4, -1)).contains("negative dimension"));
        // 2^62 int32 elements are 2^64 bytes: the product wraps to 0 in plain long arithmetic.
        assertEquals(0L, (1L << 62) * 4);
        assertTrue(refusal(() -> Sizes.bytes("b.npy", 1L << 62, 4)).contains("more than 2^63 bytes"));
        assertTrue(refusal(() -> Sizes.sum("model", Long.MAX_VALUE, 1)).contains("more than 2^63"));
    }

    @Test
    void javaArraysAndTheHeapHaveLimits() {
        assertEquals(2_000_000_000, Sizes.arrayLength("C", 40_000, 50_000));
        // 50000 x 50000 is 2.5e9, which wraps to -1794967296 as an int: the reference GEMM used to throw NegativeArraySize.
        assertEquals(-1794967296, 50_000 * 50_000);
        assertTrue(refusal(() -> Sizes.arrayLength("C", 50_000, 50_000)).contains("more than a Java array holds"));
        assertTrue(refusal(() -> Sizes.byteArrayLength("C", 3_600_000_000L)).contains("3600000000 bytes"));
        long max = Runtime.getRuntime().maxMemory();
        Sizes.fitsHeap("small", max / 2);
        assertTrue(refusal(() -> Sizes.fitsHeap("huge", max + 1)).contains("raise -Xmx"));
    }

    @Test
    void aBufferAboveTheDevicesLargestAllocationIsRefusedBeforeTheDriverIsAsked() {
        var info = CL.device().info();
        Sizes.fitsDevice("x", info.maxAllocBytes(), info);
        assertTrue(refusal(() -> Sizes.fitsDevice("--out c.npy", info.maxAllocBytes() + 1, info)).contains("CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
        // The binding's own guard, under every allocation: an IllegalArgumentException, not CL_INVALID_BUFFER_SIZE.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            try (Buffer b = CL.device().context().createBuffer(info.maxAllocBytes() + 1)) {
                b.size();
            }
        });
        assertTrue(e.getMessage().contains("allocates at once") && e.getMessage().contains("CL_DEVICE_MAX_MEM_ALLOC_SIZE"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CL.device().context().createBuffer(0));
    }
}
