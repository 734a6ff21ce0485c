package dev.offload.ops.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.KernelStyle;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.SparseFormat;
import dev.offload.ops.gemm.Activation;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.validate.GuardedOutput;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The block-sparse linear kernel (bsr_linear.cl) against the Java reference from the BSR storage and the dense int8
 * linear, bit for bit, in both block shapes and both kernel styles, at shapes where T, N and K are not multiples of the
 * tiles; and block pruning keeps exactly the promised blocks.
 */
class BsrLinearTest {
    static OpenClDevice device;

    @BeforeAll
    static void open() { device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow()); }

    @AfterAll
    static void close() { device.close(); }

    /** W [K, N] pruned in blocks of 16 or 32 channels x 4 k of W^T to the sparsity, in W's own [K, N] layout. */
    static byte[] blockPrunedWeight(Random rnd, int k, int n, int blockRows, double sparsity) {
        DenseMatrix wt = DenseMatrix.ofInt8(n, k, SparseTestData.int8(rnd, n * k));
        byte[] pt = ((Values.Int8) Pruning.blocks(wt, blockRows, 4, sparsity, Pruning.BlockNorm.L2).values()).data();
        byte[] w = new byte[k * n];
        for (int kk = 0; kk < k; kk++) for (int j = 0; j < n; j++) w[kk * n + j] = pt[j * k + kk];
        return w;
    }

    @ParameterizedTest(name = "T={0} K={1} N={2} bsr:{3}x4 {4} {5} unsigned={6} perRow={7} {8}")
    @CsvSource({
            "1, 1, 1, 16, 0.0, NONE, true, false, portable",
            "3, 7, 17, 16, 0.5, NONE, true, true, portable",
            "9, 37, 33, 32, 0.5, RELU, false, false, portable",
            "13, 130, 47, 16, 0.9, GELU_ERF, true, true, portable",
            "17, 61, 95, 32, 0.7, GELU_TANH, false, true, portable",
            "8, 384, 64, 16, 0.8, SILU, true, false, portable",
            "37, 384, 96, 32, 0.9, NONE, true, true, portable",
            "29, 130, 40, 32, 0.5, RELU, true, false, portable",
            "5, 203, 31, 32, 0.0, NONE, false, false, portable",
            "13, 130, 47, 16, 0.9, GELU_ERF, true, true, fpga",
            "17, 61, 95, 32, 0.7, RELU, false, true, fpga",
    })
    void matchesTheReferenceAndTheDenseLinearBitForBit(int t, int k, int n, int blockRows, double sparsity, Activation act,
                                                       boolean unsigned, boolean perRow, String style) {
        device.kernelStyle(KernelStyle.parse(style, "style"));
        try {
            Random rnd = new Random(1000L * t + 10L * k + n + blockRows);
            byte[] w = blockPrunedWeight(rnd, k, n, blockRows, sparsity);
            byte[] a = SparseTestData.int8(rnd, t * k);
            int rows = perRow ? t : 1;
            int[] za = new int[rows];
            float[] sa = new float[rows];
            for (int i = 0; i < rows; i++) { za[i] = unsigned ? rnd.nextInt(256) : rnd.nextInt(256) - 128; sa[i] = 1e-3f + rnd.nextFloat() * 0.05f; }
            float[] sw = new float[n], bias = new float[n];
            for (int j = 0; j < n; j++) { sw[j] = 1e-3f + rnd.nextFloat() * 0.05f; bias[j] = rnd.nextFloat() * 2 - 1; }
            boolean withBias = act != Activation.NONE;

            BsrMatrix s = BsrLinear.layout(w, k, n, SparseFormat.parse("bsr:" + blockRows + "x4"));
            assertEquals(blockRows, s.blockRows());
            float[] want = SparseLinearReference.linear(s, a, unsigned, za, sa, sw, withBias ? bias : null, act, t);
            int[] dense = Int8GemmReference.accumulate(a, unsigned, za, Int8GemmReference.widen(w, (byte[]) null, n), t, k, n);
            assertArrayEquals(dense, SparseLinearReference.accumulate(s, a, unsigned, za, t), "the BSR sums are the dense sums");
            float[] denseY = Int8GemmReference.int8Linear(dense, t, n, sa, sw, withBias ? bias : null, act);
            assertArrayEquals(denseY, want);

            float[] got = run(s, a, unsigned, za, sa, sw, withBias ? bias : null, act, t);
            for (int i = 0; i < want.length; i++) {
                // Same integer sums and the same float operations: equal bits, except for the double-precision
                // reference functions of GELU_TANH and SILU (the dense kernel's float versions differ from them too).
                double tolerance = act == Activation.GELU_TANH || act == Activation.SILU ? 1e-5 + 1e-6 * Math.abs(want[i]) : 0;
                assertEquals(want[i], got[i], tolerance, "element " + i);
            }
        } finally {
            device.kernelStyle(KernelStyle.PORTABLE);
        }
    }

    static float[] run(BsrMatrix s, byte[] a, boolean unsigned, int[] za, float[] sa, float[] sw, float[] bias, Activation act, int t) {
        BsrLinear bsr = new BsrLinear(device);
        try (Spmm.DeviceMatrix w = bsr.upload(s); Buffer ab = device.upload(a); Buffer zb = device.upload(za);
             Buffer sab = device.upload(sa); Buffer swb = device.upload(sw); Buffer bb = bias == null ? null : device.upload(bias);
             GuardedOutput y = GuardedOutput.floats(device, t * s.rows())) {
            bsr.enqueue(w, new Spmm.Activations(ab, unsigned, t, sab, zb, za.length != 1), swb, bb, act, y.buffer(),
                    (k, global, local) -> device.launch(k, global, local).await().close());
            if (!y.guardsIntact()) throw new AssertionError("bsr_linear wrote outside its output");
            return y.readFloats();
        }
    }

    @Test
    void blockPruningKeepsTheLargestBlocksOfEveryBlockRowAndConvertsExactly() {
        // S [5, 10] in 2x4 blocks: block rows {0,1}, {2,3}, {4}; block columns {0..3}, {4..7}, {8, 9}.
        byte[] v = new byte[50];
        for (int i = 0; i < 50; i++) v[i] = (byte) (1 + i % 7);
        v[0 * 10 + 5] = 100;   // block row 0: block column 1 is the largest
        v[4 * 10 + 9] = -120;  // block row 2: the partial block column 2 is the largest
        DenseMatrix pruned = Pruning.blocks(DenseMatrix.ofInt8(5, 10, v), 2, 4, 2 / 3.0, Pruning.BlockNorm.L1);
        BsrMatrix b = BsrMatrix.fromDense(pruned, 2, 4);
        assertArrayEquals(new int[] {0, 1, 2, 3}, b.blockRowPtr(), "round(1/3 * 3) = 1 block kept per block row");
        assertArrayEquals(new int[] {1, 1, 2}, b.blockColIdx());
        assertArrayEquals(((Values.Int8) pruned.values()).data(), ((Values.Int8) b.toDense().values()).data());
        assertThrows(IllegalArgumentException.class, () -> Pruning.blocks(DenseMatrix.ofInt8(5, 10, v), 2, 4, 1.5, Pruning.BlockNorm.L2));
    }

    @Test
    void aFormatThatIsNotWholeKernelBlocksIsStoredInSixteenByFourBlocksExactly() {
        Random rnd = new Random(5);
        int k = 21, n = 19;
        byte[] w = SparseTestData.int8(rnd, k * n);
        for (int i = 0; i < w.length; i++) if (rnd.nextDouble() < 0.8) w[i] = 0;
        BsrMatrix s = BsrLinear.layout(w, k, n, SparseFormat.parse("bsr:4x4"));
        assertEquals(16, s.blockRows());
        assertEquals(4, s.blockCols());
        DenseMatrix back = s.toDense();
        for (int kk = 0; kk < k; kk++) for (int j = 0; j < n; j++) assertEquals(w[kk * n + j], ((Values.Int8) back.values()).data()[j * k + kk]);
        assertEquals(32, BsrLinear.blockRows(SparseFormat.parse("bsr:64x8")));
        assertEquals(16, BsrLinear.blockRows(SparseFormat.parse("bsr:32x6")));
    }
}
