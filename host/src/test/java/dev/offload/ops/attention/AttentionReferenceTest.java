package dev.offload.ops.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The reference's semantics, checked on inputs whose answers are known in closed form. */
class AttentionReferenceTest {

    /** V with every element of key j equal to j: a query's output is the weighted mean of the key indices it sees. */
    static float[] indexValues(AttentionShape s) {
        float[] v = new float[(int) s.kvElements()];
        for (int i = 0; i < v.length; i++) v[i] = (i / s.headDim()) % s.kvLength();
        return v;
    }

    static float[] filled(long n, float x) {
        float[] a = new float[(int) n];
        Arrays.fill(a, x);
        return a;
    }

    @Test
    void aSingleKeyOutputsItsValueRow() {
        AttentionShape s = AttentionShape.of(1, 1, 3, 1, 4);
        float[] v = {0.5f, -2f, 3f, 7f};
        float[] o = AttentionReference.compute(AttentionProblem.of(s), filled(12, 0.3f), filled(4, -1f), v);
        for (int i = 0; i < 3; i++) assertArrayEquals(v, Arrays.copyOfRange(o, 4 * i, 4 * i + 4));
    }

    @Test
    void equalScoresAverageTheValues() {
        AttentionShape s = AttentionShape.of(1, 1, 1, 5, 4);
        float[] o = AttentionReference.compute(AttentionProblem.of(s), filled(4, 0f), filled(20, 1f), indexValues(s));
        for (float x : o) assertEquals(2f, x, 1e-6f);    // mean of 0..4
    }

    @Test
    void causalQueryISeesKeysUpToIPlusSkvMinusSq() {
        AttentionShape s = AttentionShape.of(1, 1, 3, 7, 4);
        AttentionProblem p = AttentionProblem.of(s).withMask(Mask.CAUSAL);
        float[] o = AttentionReference.compute(p, filled(12, 0f), filled(28, 1f), indexValues(s));
        for (int i = 0; i < 3; i++) {
            int last = i + 7 - 3;                        // keys 0..last, equal weights
            assertEquals(last / 2f, o[4 * i], 1e-6f, "query " + i);
        }
    }

    @Test
    void kvLengthsAndAnAdditiveMinusInfinityMaskAgree() {
        AttentionShape s = AttentionShape.of(2, 1, 2, 6, 4);
        float[] q = AttentionTesting.uniform(new java.util.Random(1), 16, 1f);
        float[] k = AttentionTesting.uniform(new java.util.Random(2), 48, 1f);
        float[] v = AttentionTesting.uniform(new java.util.Random(3), 48, 1f);
        float[] bias = new float[2 * 2 * 6];
        for (int b = 0; b < 2; b++) for (int i = 0; i < 2; i++) for (int j = (b == 0 ? 4 : 1); j < 6; j++) {
            bias[(b * 2 + i) * 6 + j] = Float.NEGATIVE_INFINITY;
        }
        float[] byLength = AttentionReference.compute(AttentionProblem.of(s).withMask(Mask.NONE.withKvLengths(new int[] {4, 1})), q, k, v);
        float[] byBias = AttentionReference.compute(AttentionProblem.of(s).withMask(
                Mask.NONE.withAdditive(new Mask.Additive(bias, Mask.Layout.BATCH_QUERY_KEY))), q, k, v);
        assertArrayEquals(byLength, byBias);
    }

    @Test
    void aRowWithEveryKeyMaskedIsZeros() {
        AttentionShape s = AttentionShape.of(2, 1, 1, 3, 4);
        AttentionProblem p = AttentionProblem.of(s).withMask(Mask.NONE.withKvLengths(new int[] {0, 3}));
        float[] o = AttentionReference.compute(p, filled(8, 1f), filled(24, 1f), filled(24, 5f));
        assertArrayEquals(new float[] {0, 0, 0, 0, 5, 5, 5, 5}, o);
    }

    @Test
    void queryHeadHReadsKvHeadHDividedByTheGroupSize() {
        AttentionShape s = new AttentionShape(1, 6, 3, 1, 2, 4);
        float[] v = new float[(int) s.kvElements()];
        for (int g = 0; g < 3; g++) Arrays.fill(v, g * 8, g * 8 + 8, g + 1);
        float[] o = AttentionReference.compute(AttentionProblem.of(s), filled(24, 1f), filled(24, 1f), v);
        for (int h = 0; h < 6; h++) assertEquals(h / 2 + 1, o[h * 4], "head " + h);
    }

    @Test
    void halfStorageRoundsInputsBeforeComputing() {
        AttentionShape s = AttentionShape.of(1, 1, 1, 1, 4);
        float[] v = {1.0001f, 2f, 3f, 4f};            // 1.0001 is not a half; it rounds to 1
        float[] o = AttentionReference.compute(AttentionProblem.of(s).withStorage(Storage.FLOAT16), filled(4, 1f), filled(4, 1f), v);
        assertEquals(1f, o[0]);
    }

    @Test
    void masksThatDoNotFitTheShapeAreRejectedWithTheReason() {
        AttentionShape s = AttentionShape.of(2, 1, 3, 5, 4);
        var e1 = assertThrows(IllegalArgumentException.class, () -> AttentionProblem.of(s).withMask(Mask.NONE.withKvLengths(new int[] {5})));
        assertTrue(e1.getMessage().contains("batch is 2"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> AttentionProblem.of(s).withMask(Mask.NONE.withKvLengths(new int[] {5, 6})));
        assertTrue(e2.getMessage().contains("outside 0..5"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> AttentionProblem.of(s).withMask(
                Mask.NONE.withAdditive(new Mask.Additive(new float[14], Mask.Layout.QUERY_KEY))));
        assertTrue(e3.getMessage().contains("needs 15"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> new AttentionShape(1, 6, 4, 1, 1, 64));
        assertTrue(e4.getMessage().contains("H % Hkv"), e4.getMessage());
    }
}
