package dev.offload.ops.layers;

import dev.offload.graph.RotaryEmbedding;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Rotary positions: rotations (lengths kept), relative (q.k depends on the distance only), the two layouts alike, and
 * a position outside the tables gives NaN rather than a wrong rotation.
 */
class RopeReferenceTest {
    static final int HEADS = 3, D = 16;

    static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @Test
    void itRotatesPairsKeepingTheirLengthAndPositionZeroIsTheIdentity() {
        Random r = new Random(1);
        float[] x = random(r, 4 * HEADS * D);
        RotaryEmbedding rope = RotaryEmbedding.of(HEADS, D, RotaryEmbedding.Style.ADJACENT_PAIRS, 10000, 16);
        float[] y = LayersReference.rope(x, new int[] {0, 1, 2, 3}, rope);
        for (int h = 0; h < HEADS; h++) {
            for (int i = 0; i < D; i++) assertEquals(x[h * D + i], y[h * D + i], 0f, "token 0 is at position 0: unchanged");
        }
        float[] z = LayersReference.rope(x, new int[] {7, 8, 9, 10}, rope);
        for (int p = 0; p < x.length; p += 2) {
            double before = Math.hypot(x[p], x[p + 1]), after = Math.hypot(z[p], z[p + 1]);
            assertEquals(before, after, 1e-5 * (1 + before), "pair at " + p);
        }
    }

    @Test
    void aQueryKeyProductDependsOnlyOnTheirDistance() {
        Random r = new Random(2);
        float[] q = random(r, D), k = random(r, D);
        for (RotaryEmbedding.Style style : RotaryEmbedding.Style.values()) {
            double d1 = dot(rotated(q, 9, style), rotated(k, 4, style)), d2 = dot(rotated(q, 105, style), rotated(k, 100, style));
            assertEquals(d1, d2, 1e-4, style + ": positions (9, 4) and (105, 100) are both 5 apart");
        }
    }

    @Test
    void halvesAreAdjacentPairsWithTheHeadDimensionsInterleaved() {
        // GGUF converters permute a llama's Q and K rows so that ggml's adjacent-pair rotation computes the
        // checkpoint's half-split rotation: element i of the first half pairs with element i of the second.
        Random r = new Random(3);
        float[] x = random(r, D), interleaved = new float[D];
        for (int i = 0; i < D / 2; i++) {
            interleaved[2 * i] = x[i];
            interleaved[2 * i + 1] = x[i + D / 2];
        }
        float[] a = rotated(x, 13, RotaryEmbedding.Style.HALVES), b = rotated(interleaved, 13, RotaryEmbedding.Style.ADJACENT_PAIRS);
        for (int i = 0; i < D / 2; i++) {
            assertEquals(a[i], b[2 * i], 1e-6);
            assertEquals(a[i + D / 2], b[2 * i + 1], 1e-6);
        }
    }

    static float[] rotated(float[] head, int pos, RotaryEmbedding.Style style) {
        return LayersReference.rope(head, new int[] {pos}, RotaryEmbedding.of(1, head.length, style, 10000, 128));
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    @Test
    void aPositionOutsideTheTablesGivesNaN() {
        RotaryEmbedding rope = RotaryEmbedding.of(1, D, RotaryEmbedding.Style.HALVES, 10000, 4);
        float[] y = LayersReference.rope(random(new Random(4), 2 * D), new int[] {3, 4}, rope);
        for (int i = 0; i < D; i++) {
            assertEquals(false, Float.isNaN(y[i]), "position 3 is in the tables");
            assertEquals(true, Float.isNaN(y[D + i]), "position 4 is not");
        }
    }
}
