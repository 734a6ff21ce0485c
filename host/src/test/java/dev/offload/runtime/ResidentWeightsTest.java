package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.PackedWeights;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.graph.SparseFormat;
import dev.offload.ops.sparse.Spmm;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The store of device weights on its own: sharing by host-array identity, reference counts, concurrent acquires. */
class ResidentWeightsTest {
    static OpenClDevice device;

    @BeforeAll
    static void open() { device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow()); }

    @AfterAll
    static void close() { device.close(); }

    private static float[] floats(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = r.nextFloat() * 2 - 1;
        return v;
    }

    @Test
    void holdersOfOneArrayShareOneBufferUntilTheLastReleases() {
        float[] gamma = floats(384, 1);
        try (ResidentWeights store = new ResidentWeights()) {
            ResidentWeights.Holder a = store.holder(device), b = store.holder(device);
            Buffer ba = a.upload(gamma);
            Buffer bb = b.upload(gamma);
            assertSame(ba, bb, "the second holder of the same array must get the first one's buffer");
            assertArrayEquals(gamma, device.readFloats(ba, gamma.length), "the device copy holds the array");
            assertEquals(new ResidentWeights.Usage(4L * gamma.length, 1), store.usage(device));

            // Equal values in another array are another weight: identity, not content, decides.
            Buffer other = a.upload(gamma.clone());
            assertNotSame(ba, other);
            assertEquals(new ResidentWeights.Usage(8L * gamma.length, 2), store.usage(device));

            a.close();
            assertEquals(new ResidentWeights.Usage(4L * gamma.length, 1), store.usage(device), "b still holds gamma");
            assertArrayEquals(gamma, device.readFloats(bb, gamma.length), "b's buffer is still alive");
            b.close();
            assertEquals(new ResidentWeights.Usage(0, 0), store.usage(device), "the last release frees the buffer");
            assertEquals(0, store.totalBytes());

            // After the last release the next holder uploads again.
            try (ResidentWeights.Holder c = store.holder(device)) {
                c.upload(gamma);
                assertEquals(1, store.totalBuffers());
            }
            assertEquals(0, store.totalBuffers());
        }
    }

    @Test
    void packedWeightsAreKeyedByArrayZeroPointValuesAndConfig() {
        int k = 40, n = 24;
        byte[] w = new byte[k * n];
        new Random(2).nextBytes(w);
        int[] zp = new int[n];
        for (int j = 0; j < n; j++) zp[j] = j % 5 - 2;
        Int8Gemm gemm = Int8Gemm.on(device);
        Int8Matrix b = new Int8Matrix(QuantType.INT8, k, n, w);
        long packedBytes;
        try (PackedWeights alone = gemm.pack(b, ZeroPoint.perColumn(zp))) {
            packedBytes = alone.packed().size() + alone.zeroPoints().size() + alone.columnSums().size();
        }
        try (ResidentWeights store = new ResidentWeights();
             ResidentWeights.Holder h = store.holder(device)) {
            PackedWeights p1 = h.packed(gemm, b, ZeroPoint.perColumn(zp));
            // Zero points equal in value (a graph built for another shape converts them again) share the packing.
            PackedWeights p2 = h.packed(gemm, new Int8Matrix(QuantType.INT8, k, n, w), ZeroPoint.perColumn(zp.clone()));
            assertSame(p1, p2);
            assertEquals(new ResidentWeights.Usage(packedBytes, 3), store.usage(device));
            // Other zero points are another packing of the same weight.
            PackedWeights p3 = h.packed(gemm, b, ZeroPoint.scalar(0));
            assertNotSame(p1, p3);
            assertEquals(6, store.totalBuffers());
            // A placeholder is one buffer per device, whoever asks.
            Buffer none1 = h.placeholder();
            assertSame(none1, store.holder(device).placeholder());
            assertEquals(7, store.totalBuffers());

            Spmm spmm = new Spmm(device);
            Spmm.DeviceMatrix s1 = h.sparse(spmm, w, k, n, SparseFormat.CSR);
            assertSame(s1, h.sparse(spmm, w, k, n, SparseFormat.CSR));
            // A 2:4 weight (two of every four along K zero) uploads once per format.
            byte[] w24 = w.clone();
            for (int kk = 0; kk < k; kk++) if (kk % 4 >= 2) for (int j = 0; j < n; j++) w24[kk * n + j] = 0;
            Spmm.DeviceMatrix csr = h.sparse(spmm, w24, k, n, SparseFormat.CSR);
            Spmm.DeviceMatrix twoFour = h.sparse(spmm, w24, k, n, SparseFormat.TWO_FOUR);
            assertNotSame(csr, twoFour, "2:4 is another upload of the weight");
            assertSame(twoFour, h.sparse(spmm, w24, k, n, SparseFormat.TWO_FOUR));
        }
    }

    @Test
    void fourThreadsAcquiringAtOnceUploadOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (ResidentWeights store = new ResidentWeights()) {
            for (int round = 0; round < 25; round++) {
                float[] table = floats(1 << 16, round);
                byte[] w = new byte[64 * 64];
                new Random(round).nextBytes(w);
                CyclicBarrier start = new CyclicBarrier(4);
                List<ResidentWeights.Holder> holders = new ArrayList<>();
                for (int t = 0; t < 4; t++) holders.add(store.holder(device));
                List<Future<Object[]>> got = new ArrayList<>();
                for (ResidentWeights.Holder h : holders) {
                    got.add(pool.submit(() -> {
                        start.await();
                        return new Object[] {h.upload(table), h.packed(Int8Gemm.on(device), new Int8Matrix(QuantType.INT8, 64, 64, w), ZeroPoint.scalar(0))};
                    }));
                }
                Object[] first = got.getFirst().get();
                for (Future<Object[]> f : got) {
                    Object[] r = f.get();
                    assertSame(first[0], r[0], "round " + round + ": every thread must get the one upload of the table");
                    assertSame(first[1], r[1], "round " + round + ": every thread must get the one packing");
                }
                assertEquals(4, store.totalBuffers(), "round " + round + ": one table buffer and one packing (3 buffers)");
                // Release from all four threads at once too: the last one frees.
                start.reset();
                List<Future<?>> released = new ArrayList<>();
                for (ResidentWeights.Holder h : holders) released.add(pool.submit(() -> { start.await(); h.close(); return null; }));
                for (Future<?> f : released) f.get();
                assertEquals(new ResidentWeights.Usage(0, 0), store.usage(device), "round " + round);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closingTheStoreFreesWhatIsLeftAndLaterReleasesDoNothing() {
        ResidentWeights store = new ResidentWeights();
        ResidentWeights.Holder h = store.holder(device);
        h.upload(new int[] {1, 2, 3});
        assertEquals(12, store.totalBytes());
        store.close();
        assertEquals(0, store.totalBytes());
        assertEquals(0, store.totalBuffers());
        h.close();
        assertEquals(0, store.totalBuffers());
    }
}
