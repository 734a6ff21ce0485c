package dev.offload.ops.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.tensor.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The spmm kernels agree with the Java reference and with the dense product of the densified matrix. */
class SpmmOpenClTest {
    static OpenClDevice device;
    static Spmm spmm;

    @BeforeAll
    static void open() {
        device = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
        spmm = new Spmm(device);
    }

    @AfterAll
    static void close() { device.close(); }

    /** M, K, N: ones, primes, N around the 32-column tile, K not a multiple of 4 or of the blocks. */
    static final int[][] SHAPES = {{1, 1, 1}, {7, 13, 5}, {31, 37, 33}, {64, 96, 64}, {17, 301, 1}, {5, 203, 97}};
    static final String[] FORMATS = {"csr", "bsr:1x4", "bsr:4x4", "bsr:8x8", "bsr:3x5", "2:4"};

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (DType t : List.of(DType.INT8, DType.FLOAT32)) {
            for (String f : FORMATS) {
                for (int[] s : SHAPES) out.add(Arguments.of(t, f, s[0], s[1], s[2], f.equals("2:4") ? 0.5 : 0.75));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} M={2} K={3} N={4} sparsity={5}")
    @MethodSource("cases")
    void everyFormatMatchesTheReferenceAndTheDenseProductIntoPoisonedOutput(DType type, String format, int m, int k,
                                                                            int n, double sparsity) {
        Random rnd = new Random(31L * m + 17L * k + n + format.hashCode() + type.ordinal());
        SparseMatrix s = SparseTestData.sparse(SparseTestData.dense(rnd, type, m, k), format, sparsity);
        checkAgainstReferences(s, rnd, n);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DType.class, names = {"INT8", "FLOAT32"})
    void rowsWithoutStoredValuesProduceZeros(DType type) {
        Random rnd = new Random(5);
        DenseMatrix d = SparseTestData.dense(rnd, type, 9, 40);
        Values v = d.values().zeros(d.values().length());
        for (int i = 0; i < v.length(); i++) if ((i / 40) % 3 == 1) d.values().copy(i, v, i);   // rows 1, 4, 7 only
        DenseMatrix sparseRows = new DenseMatrix(9, 40, v);
        for (SparseMatrix s : List.of(CsrMatrix.fromDense(sparseRows), BsrMatrix.fromDense(sparseRows, 2, 8),
                Sparse24Matrix.fromDense(Pruning.twoFour(sparseRows)))) {
            checkAgainstReferences(s, rnd, 35);
        }
    }

    @Test
    void int8AccumulationWrapsAroundLikeJavaInt() {
        // 140000 products of (-128) * (-128) = 2.29e9 overflow int32: the kernel must wrap exactly like Java.
        int m = 2, k = 140_000, n = 33;
        byte[] a = new byte[m * k], b = new byte[k * n];
        Arrays.fill(a, (byte) -128);
        Arrays.fill(b, (byte) -128);
        SparseMatrix s = CsrMatrix.fromDense(DenseMatrix.ofInt8(m, k, a));
        int[] got = spmm.multiplyInt8(s, b, n).value();
        int want = (int) (16384L * k);
        assertTrue(want < 0, "the test must overflow");
        for (int i = 0; i < got.length; i++) assertEquals(want, got[i], "element " + i);
        assertArrayEquals(SpmmReference.multiplyInt8(s, b, n), got);
    }

    @Test
    void dequantizeEpilogueMatchesTheReferenceBitForBit() {
        Random rnd = new Random(11);
        int m = 23, k = 70, n = 45;
        SparseMatrix s = SparseTestData.sparse(SparseTestData.dense(rnd, DType.INT8, m, k), "csr", 0.9);
        byte[] b = SparseTestData.int8(rnd, k * n);
        float[] scales = new float[m], bias = new float[m];
        for (int i = 0; i < m; i++) { scales[i] = 0.001f + rnd.nextFloat() * 0.05f; bias[i] = rnd.nextFloat() * 4 - 2; }
        float bScale = 0.0123f;
        int[] acc = SpmmReference.multiplyInt8(s, b, n);
        assertArrayEquals(SpmmReference.dequantize(acc, m, n, scales, bScale, bias),
                spmm.multiplyDequantized(s, b, n, scales, bScale, bias).value());
        assertArrayEquals(SpmmReference.dequantize(acc, m, n, scales, bScale, null),
                spmm.multiplyDequantized(s, b, n, scales, bScale, null).value());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Binding.class)
    void bothBindingsComputeTheSameCsrAnd24Products(Binding binding) {
        try (OpenClDevice d = new OpenClDevice(DeviceRegistry.discover(binding).resolve("cl:cpu").orElseThrow())) {
            Spmm other = new Spmm(d);
            Random rnd = new Random(77);
            SparseMatrix csr = SparseTestData.sparse(SparseTestData.dense(rnd, DType.INT8, 19, 67), "csr", 0.9);
            SparseMatrix t24 = SparseTestData.sparse(SparseTestData.dense(rnd, DType.FLOAT32, 19, 67), "2:4", 0);
            byte[] b8 = SparseTestData.int8(rnd, 67 * 41);
            float[] bf = SparseTestData.float32(rnd, 67 * 41);
            assertArrayEquals(SpmmReference.multiplyInt8(csr, b8, 41), other.multiplyInt8(csr, b8, 41).value());
            float[] want = SpmmReference.multiplyFloat32(t24, bf, 41);
            float[] got = other.multiplyFloat32(t24, bf, 41).value();
            assertEquals(-1, SpmmTolerance.firstViolation(want, got, SpmmTolerance.elementBounds(t24, bf, 41)));
        }
    }

    /** Runs S x B into a poisoned buffer with guard words past the end, and checks values and guards. */
    static void checkAgainstReferences(SparseMatrix s, Random rnd, int n) {
        int m = s.rows(), k = s.cols(), count = m * n, guard = 16;
        boolean int8 = s.dtype() == DType.INT8;
        byte[] b8 = int8 ? SparseTestData.int8(rnd, k * n) : null;
        float[] bf = int8 ? null : SparseTestData.float32(rnd, k * n);
        byte[] poison = {(byte) 0xA5, (byte) 0xFF, (byte) 0xC3, (byte) 0x7F};   // a NaN as float, odd as int
        try (Spmm.DeviceMatrix ds = spmm.upload(s); Buffer b = int8 ? device.upload(b8) : device.upload(bf);
             Buffer y = device.context().createBuffer(4L * (count + guard))) {
            device.queue().fill(y, poison, 0, y.size()).await().close();
            try (Event e = spmm.enqueue(ds, b, n, y)) { e.await(); }
            int[] raw = device.readInts(y, count + guard);
            int poisonWord = 0x7FC3FFA5;
            for (int i = count; i < count + guard; i++) assertEquals(poisonWord, raw[i], "guard word " + (i - count) + " overwritten");
            String what = s.formatName() + " " + s.dtype().numpyName() + " [" + m + "," + k + "]x[" + k + "," + n + "]";
            if (int8) {
                int[] got = Arrays.copyOf(raw, count);
                assertArrayEquals(SpmmReference.multiplyInt8(s, b8, n), got, what + " vs reference");
                assertArrayEquals(SpmmReference.denseInt8(s.toDense(), b8, n), got, what + " vs dense");
            } else {
                float[] got = new float[count];
                for (int i = 0; i < count; i++) got[i] = Float.intBitsToFloat(raw[i]);
                double[] bounds = SpmmTolerance.elementBounds(s, bf, n);
                int bad = SpmmTolerance.firstViolation(SpmmReference.multiplyFloat32(s, bf, n), got, bounds);
                assertEquals(-1, bad, what + " vs reference at element " + bad);
                bad = SpmmTolerance.firstViolation(SpmmReference.denseFloat32(s.toDense(), bf, n), got, bounds);
                assertEquals(-1, bad, what + " vs dense at element " + bad);
            }
        }
    }
}
