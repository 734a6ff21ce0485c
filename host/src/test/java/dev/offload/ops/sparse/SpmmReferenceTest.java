package dev.offload.ops.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.offload.tensor.DType;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Java reference computed from each sparse format agrees with the dense product of the densified matrix. */
class SpmmReferenceTest {

    @Test
    void int8ReferenceOfEveryFormatEqualsTheDenseProductBitForBit() {
        Random rnd = new Random(21);
        for (String f : SpmmOpenClTest.FORMATS) {
            SparseMatrix s = SparseTestData.sparse(SparseTestData.dense(rnd, DType.INT8, 13, 29), f, 0.6);
            byte[] b = SparseTestData.int8(rnd, 29 * 11);
            assertArrayEquals(SpmmReference.denseInt8(s.toDense(), b, 11), SpmmReference.multiplyInt8(s, b, 11), f);
        }
    }

    @Test
    void float32ReferenceOfEveryFormatIsWithinTheRoundingBoundOfTheDenseProduct() {
        Random rnd = new Random(22);
        for (String f : SpmmOpenClTest.FORMATS) {
            SparseMatrix s = SparseTestData.sparse(SparseTestData.dense(rnd, DType.FLOAT32, 13, 29), f, 0.6);
            float[] b = SparseTestData.float32(rnd, 29 * 11);
            float[] want = SpmmReference.denseFloat32(s.toDense(), b, 11);
            assertEquals(-1, SpmmTolerance.firstViolation(want, SpmmReference.multiplyFloat32(s, b, 11),
                    SpmmTolerance.elementBounds(s, b, 11)), f);
        }
    }

    @Test
    void toleranceCatchesALostTerm() {
        Random rnd = new Random(23);
        SparseMatrix s = SparseTestData.sparse(SparseTestData.dense(rnd, DType.FLOAT32, 4, 64), "csr", 0.5);
        float[] b = SparseTestData.float32(rnd, 64 * 3);
        float[] got = SpmmReference.multiplyFloat32(s, b, 3);
        CsrMatrix c = (CsrMatrix) s;
        got[0] -= ((Values.Float32) c.values()).data()[0] * b[c.colIdx()[0] * 3];      // drop one product
        assertEquals(0, SpmmTolerance.firstViolation(SpmmReference.denseFloat32(s.toDense(), b, 3), got,
                SpmmTolerance.elementBounds(s, b, 3)));
    }

    @Test
    void dequantizeScalesPerOutputRowAndPerTensorAndAddsTheRowBias() {
        int[] acc = {10, -20, 30, 40};                       // [2, 2]
        float[] y = SpmmReference.dequantize(acc, 2, 2, new float[] {0.5f, 2f}, 0.25f, new float[] {1f, -1f});
        assertArrayEquals(new float[] {10 * 0.5f * 0.25f + 1, -20 * 0.5f * 0.25f + 1, 30 * 2f * 0.25f - 1, 40 * 2f * 0.25f - 1}, y);
        assertThrows(IllegalArgumentException.class, () -> SpmmReference.dequantize(acc, 2, 2, new float[] {1f}, 1f, null));
    }

    @Test
    void shapesAndTypesMustMatch() {
        SparseMatrix s = CsrMatrix.fromDense(DenseMatrix.ofInt8(2, 3, new byte[] {1, 2, 3, 4, 5, 6}));
        assertThrows(IllegalArgumentException.class, () -> SpmmReference.multiplyInt8(s, new byte[5], 2));
        assertThrows(IllegalArgumentException.class, () -> SpmmReference.multiplyFloat32(s, new float[6], 2));
    }
}
