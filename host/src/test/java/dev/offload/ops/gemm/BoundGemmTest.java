package dev.offload.ops.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.quant.QuantType;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A GEMM call bound once ({@link Int8Gemm#bind}) gives the reference's bits on every run, reading its buffers afresh each time. */
class BoundGemmTest {
    private static OpenClDevice device;
    private static Int8Gemm gemm;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        gemm = Int8Gemm.on(device);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    private static final byte[] POISON = {0x7B, 0x7F, 0x7F, 0x7F};

    @ParameterizedTest(name = "{0}x{1}x{2}, B zero point {3}")
    @CsvSource({"1, 333, 515, 0", "1, 333, 515, -7", "7, 29, 13, 5", "37, 1000, 1, 0", "65, 48, 256, 3"})
    void everyRunOfABoundCallIsTheReferenceOfWhatItsBuffersHoldThen(int m, int n, int k, int zbValue) {
        Random rnd = new Random(11L * m + 3L * n + k + zbValue);
        Int8Matrix b = Int8GemmTest.random(rnd, QuantType.INT8, k, n);
        ZeroPoint za = ZeroPoint.scalar(rnd.nextInt(256)), zb = ZeroPoint.scalar(zbValue);
        try (PackedWeights w = gemm.pack(b, zb); Buffer ab = device.context().createBuffer((long) m * k);
             Buffer out = device.context().createBuffer(4L * m * n);
             BoundGemm call = gemm.bind(ab, QuantType.UINT8, m, za, w, Epilogue.INT32, out)) {
            assertEquals(zbValue != 0, w.needsRowSums());
            for (int run = 0; run < 3; run++) {
                // New A and a poisoned C before each run: the call reads A when it runs and writes every element of C.
                Int8Matrix a = Int8GemmTest.random(rnd, QuantType.UINT8, m, k);
                try (Arena arena = Arena.ofConfined()) {
                    device.queue().writeBlocking(ab, arena.allocateFrom(ValueLayout.JAVA_BYTE, a.data()));
                }
                device.queue().fill(out, POISON, 0, out.size()).await().close();
                long nanos = call.run();
                assertTrue(nanos > 0, "device time of the call's kernels");
                assertArrayEquals(Int8GemmReference.matmulInteger(a, za, b, zb), device.readInts(out, m * n), "run " + run);
            }
        }
    }

    @Test
    void aBoundDequantizeCallMatchesTheOneShotRun() {
        Random rnd = new Random(77);
        int m = 9, n = 40, k = 70;
        Int8Matrix a = Int8GemmTest.random(rnd, QuantType.UINT8, m, k), b = Int8GemmTest.random(rnd, QuantType.INT8, k, n);
        float[] weightScale = new float[n], bias = new float[n];
        for (int j = 0; j < n; j++) {
            weightScale[j] = 0.001f + rnd.nextFloat() * 0.01f;
            bias[j] = rnd.nextFloat() - 0.5f;
        }
        Epilogue.Dequantize epilogue = new Epilogue.Dequantize(new float[] {0.02f}, weightScale, bias, Activation.NONE);
        ZeroPoint za = ZeroPoint.scalar(128), zb = ZeroPoint.scalar(2);
        try (PackedWeights w = gemm.pack(b, zb); Buffer ab = device.upload(a.data());
             Buffer once = device.context().createBuffer(4L * m * n); Buffer bound = device.context().createBuffer(4L * m * n);
             BoundGemm call = gemm.bind(ab, QuantType.UINT8, m, za, w, epilogue, bound)) {
            gemm.run(ab, QuantType.UINT8, m, za, w, epilogue, once);
            call.run();
            call.run();
            assertArrayEquals(device.readFloats(once, m * n), device.readFloats(bound, m * n));
        }
    }

    @Test
    void aClosedCallOrAClosedBufferRefusesToRunAndBadShapesAreRefusedWhenBinding() {
        Random rnd = new Random(5);
        Int8Matrix b = Int8GemmTest.random(rnd, QuantType.INT8, 16, 8);
        try (PackedWeights w = gemm.pack(b, ZeroPoint.scalar(0)); Buffer ab = device.context().createBuffer(16);
             Buffer out = device.context().createBuffer(4L * 8)) {
            BoundGemm call = gemm.bind(ab, QuantType.UINT8, 1, ZeroPoint.scalar(0), w, Epilogue.INT32, out);
            call.close();
            call.close();   // idempotent
            assertThrows(IllegalStateException.class, call::run);
            try (BoundGemm open = gemm.bind(ab, QuantType.UINT8, 1, ZeroPoint.scalar(0), w, Epilogue.INT32, out)) {
                open.run();
                out.close();   // the caller's output released under the call: refused, not launched
                IllegalStateException e = assertThrows(IllegalStateException.class, open::run);
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
            }
            IllegalArgumentException tooFewBytes = assertThrows(IllegalArgumentException.class,
                    () -> gemm.bind(ab, QuantType.UINT8, 2, ZeroPoint.scalar(0), w, Epilogue.INT32, out));
            assertFalse(tooFewBytes.getMessage().isBlank());
        }
    }
}
