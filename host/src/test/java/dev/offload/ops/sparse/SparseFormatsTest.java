package dev.offload.ops.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.tensor.DType;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** Conversions from dense: exact ones round-trip, pruning keeps what it promises, bad input is refused clearly. */
class SparseFormatsTest {

    static byte[] bytes(DenseMatrix d) { return ((Values.Int8) d.values()).data(); }

    static float[] floats(DenseMatrix d) { return ((Values.Float32) d.values()).data(); }

    static void assertSameDense(DenseMatrix want, DenseMatrix got) {
        assertEquals(want.rows(), got.rows());
        assertEquals(want.cols(), got.cols());
        if (want.dtype() == DType.INT8) assertArrayEquals(bytes(want), bytes(got));
        else assertArrayEquals(floats(want), floats(got));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DType.class, names = {"INT8", "FLOAT32"})
    void exactConversionsRoundTripEveryFormatIncludingPaddedBlocks(DType type) {
        Random rnd = new Random(3);
        for (int[] shape : new int[][] {{1, 1}, {7, 13}, {16, 16}, {23, 37}}) {
            DenseMatrix pruned = Pruning.magnitude(SparseTestData.dense(rnd, type, shape[0], shape[1]), 0.7);
            assertSameDense(pruned, CsrMatrix.fromDense(pruned).toDense());
            for (int[] block : new int[][] {{1, 4}, {4, 4}, {8, 8}, {3, 5}, {2, 1}}) {
                BsrMatrix bsr = BsrMatrix.fromDense(pruned, block[0], block[1]);
                assertSameDense(pruned, bsr.toDense());
                assertEquals(pruned.nonZeros(), bsr.nonZeros());
            }
            DenseMatrix two4 = Pruning.twoFour(pruned);
            assertSameDense(two4, Sparse24Matrix.fromDense(two4).toDense());
        }
    }

    @Test
    void csrStoresOnlyNonZerosInColumnOrder() {
        byte[] a = {0, 5, 0, -3,
                    0, 0, 0, 0,
                    7, 0, 0, 0};
        CsrMatrix c = CsrMatrix.fromDense(DenseMatrix.ofInt8(3, 4, a));
        assertArrayEquals(new int[] {0, 2, 2, 3}, c.rowPtr());
        assertArrayEquals(new int[] {1, 3, 0}, c.colIdx());
        assertArrayEquals(new byte[] {5, -3, 7}, ((Values.Int8) c.values()).data());
        assertEquals(1 - 3 / 12.0, c.sparsity(), 1e-12);
    }

    @Test
    void bsrPadsTheLastBlockRowAndColumnWithZeros() {
        // 5 x 6 with 4 x 4 blocks: 2 x 2 block grid, the last block row has 1 real row, the last block column 2.
        float[] a = new float[30];
        a[4 * 6 + 5] = 9f;                          // only element (4, 5): block (1, 1)
        BsrMatrix b = BsrMatrix.fromDense(DenseMatrix.ofFloat32(5, 6, a), 4, 4);
        assertArrayEquals(new int[] {0, 0, 1}, b.blockRowPtr());
        assertArrayEquals(new int[] {1}, b.blockColIdx());
        float[] block = ((Values.Float32) b.values()).data();
        assertEquals(16, block.length);
        assertEquals(9f, block[0 * 4 + 1]);          // row 4 = block row 1, row 0; column 5 = block col 1, column 1
        assertEquals(1, b.nonZeros());
        assertEquals(16, b.storedValues());
    }

    @Test
    void bsrRefusesNonZeroPaddingAndBadBlockShapes() {
        float[] values = new float[16];
        values[15] = 1f;                              // (3, 3) of a block in a 2 x 2 matrix: padding
        var e = assertThrows(IllegalArgumentException.class, () -> new BsrMatrix(2, 2, 4, 4, new int[] {0, 1},
                new int[] {0}, new Values.Float32(values)));
        assertTrue(e.getMessage().contains("padding"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BsrMatrix.fromDense(DenseMatrix.ofInt8(2, 2, new byte[4]), 0, 4));
    }

    @Test
    void magnitudePruningKeepsTheLargestPerRowAndBreaksTiesByLowerColumn() {
        byte[] a = {1, -9, 3, 9, 2, -5, 5, 0, 4, 7,
                    -128, 127, 1, 1, 1, 1, 1, 1, 1, 1};
        DenseMatrix p = Pruning.magnitude(DenseMatrix.ofInt8(2, 10, a), 0.7);     // keep 3 per row
        assertArrayEquals(new byte[] {0, -9, 0, 9, 0, 0, 0, 0, 0, 7,
                                      -128, 127, 1, 0, 0, 0, 0, 0, 0, 0}, bytes(p));
    }

    @ParameterizedTest(name = "sparsity {0} keeps {1} of 1000 per row")
    @CsvSource({"0, 1000", "0.5, 500", "0.9, 100", "0.95, 50", "0.99, 10", "1, 0"})
    void magnitudePruningKeepsTheRequestedFractionOfEveryRow(double sparsity, int keep) {
        DenseMatrix d = SparseTestData.dense(new Random(9), DType.FLOAT32, 4, 1000);
        CsrMatrix c = CsrMatrix.fromDense(Pruning.magnitude(d, sparsity));
        for (int m = 0; m < 4; m++) assertEquals(keep, c.rowPtr()[m + 1] - c.rowPtr()[m], "row " + m);
    }

    @Test
    void magnitudePruningRefusesASparsityOutsideZeroToOne() {
        DenseMatrix d = DenseMatrix.ofInt8(1, 4, new byte[] {1, 2, 3, 4});
        assertThrows(IllegalArgumentException.class, () -> Pruning.magnitude(d, 1.5));
        assertThrows(IllegalArgumentException.class, () -> Pruning.magnitude(d, Double.NaN));
    }

    @Test
    void twoFourPruningKeepsTheTwoLargestOfEveryGroupWithTiesToTheLowerColumn() {
        float[] a = {1, -4, 3, 2,   5, 5, 5, 5,   -1, 0.5f};   // K = 10: the last group has 2 real columns
        DenseMatrix p = Pruning.twoFour(DenseMatrix.ofFloat32(1, 10, a));
        assertArrayEquals(new float[] {0, -4, 3, 0,   5, 5, 0, 0,   -1, 0.5f}, floats(p));
        Sparse24Matrix s = Sparse24Matrix.fromDense(p);
        assertArrayEquals(new byte[] {1 | 2 << 2, 0 | 1 << 2, 0 | 1 << 2}, s.indices());
        assertArrayEquals(new float[] {-4, 3, 5, 5, -1, 0.5f}, ((Values.Float32) s.values()).data());
    }

    @Test
    void twoFourPacksSparseGroupsAndAOneColumnTailWithoutNamingMissingColumns() {
        // K = 5: group 0 has one non-zero at position 3, group 1 has a single real column (4).
        byte[] a = {0, 0, 0, 6, 0,
                    0, 0, 0, 0, 8};
        Sparse24Matrix s = Sparse24Matrix.fromDense(DenseMatrix.ofInt8(2, 5, a));
        assertArrayEquals(new byte[] {0 | 3 << 2, 0, 0 | 1 << 2, 0}, s.indices());
        assertArrayEquals(new byte[] {0, 6, 0, 0, 0, 0, 8, 0}, ((Values.Int8) s.values()).data());
        assertArrayEquals(a, bytes(s.toDense()));
        assertEquals(2, s.nonZeros());
    }

    @Test
    void convertingANon24MatrixTo24WithoutPruningNamesTheFirstOffendingRowAndGroup() {
        byte[] a = new byte[3 * 12];
        a[2 * 12 + 4] = 1; a[2 * 12 + 5] = 2; a[2 * 12 + 7] = 3;           // row 2, group 1: three non-zeros
        a[2 * 12 + 8] = 1; a[2 * 12 + 9] = 1; a[2 * 12 + 10] = 1;          // row 2, group 2 as well
        var e = assertThrows(IllegalArgumentException.class, () -> Sparse24Matrix.fromDense(DenseMatrix.ofInt8(3, 12, a)));
        assertTrue(e.getMessage().contains("row 2, group 1"), e.getMessage());
        assertTrue(e.getMessage().contains("--prune 2:4"), e.getMessage());
    }

    @Test
    void recordsRefuseInconsistentArrays() {
        Values v = new Values.Int8(new byte[] {1, 2});
        assertThrows(IllegalArgumentException.class, () -> new CsrMatrix(2, 3, new int[] {0, 2, 1}, new int[] {0, 1}, v));
        assertThrows(IllegalArgumentException.class, () -> new CsrMatrix(2, 3, new int[] {0, 1, 2}, new int[] {0, 3}, v));
        assertThrows(IllegalArgumentException.class, () -> new CsrMatrix(2, 3, new int[] {0, 1}, new int[] {0, 1}, v));
        assertThrows(IllegalArgumentException.class, () -> new Sparse24Matrix(1, 4, v, new byte[] {(byte) (2 | 1 << 2)}));
        assertThrows(IllegalArgumentException.class, () -> new Sparse24Matrix(1, 3, v, new byte[] {(byte) (0 | 3 << 2)}));
    }

    @Test
    void csrWithRepeatedColumnsAddsThemUpLikeSciPy() {
        CsrMatrix c = new CsrMatrix(1, 3, new int[] {0, 3}, new int[] {2, 0, 2}, new Values.Int8(new byte[] {100, 1, 100}));
        assertArrayEquals(new byte[] {1, 0, (byte) 200}, bytes(c.toDense()));
        byte[] b = {1, 1, 1};   // B [3, 1]
        assertArrayEquals(new int[] {201}, SpmmReference.multiplyInt8(c, b, 1));
    }
}
