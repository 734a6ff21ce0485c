package dev.offload.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Rotary positions: rotations (lengths kept), relative (q.k depends on the distance only), and the two layouts alike. */
class RopeTest {
    static final int HEADS = 3, D = 16;

    static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @Test
    void itRotatesPairsKeepingTheirLengthAndPositionZeroIsTheIdentity() {
        Random r = new Random(1);
        float[] x = random(r, 4 * HEADS * D), y = x.clone(), z = x.clone();
        Rope.apply(y, 4, HEADS, D, 0, 10000, DecoderConfig.RopeStyle.ADJACENT_PAIRS);
        for (int h = 0; h < HEADS; h++) {
            for (int i = 0; i < D; i++) assertEquals(x[h * D + i], y[h * D + i], 0f, "token 0 is at position 0: unchanged");
        }
        Rope.apply(z, 4, HEADS, D, 7, 10000, DecoderConfig.RopeStyle.ADJACENT_PAIRS);
        for (int p = 0; p < x.length; p += 2) {
            double before = Math.hypot(x[p], x[p + 1]), after = Math.hypot(z[p], z[p + 1]);
            assertEquals(before, after, 1e-5 * (1 + before), "pair at " + p);
        }
    }

    @Test
    void aQueryKeyProductDependsOnlyOnTheirDistance() {
        Random r = new Random(2);
        float[] q = random(r, D), k = random(r, D);
        for (DecoderConfig.RopeStyle style : DecoderConfig.RopeStyle.values()) {
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
        float[] a = rotated(x, 13, DecoderConfig.RopeStyle.HALVES), b = rotated(interleaved, 13, DecoderConfig.RopeStyle.ADJACENT_PAIRS);
        for (int i = 0; i < D / 2; i++) {
            assertEquals(a[i], b[2 * i], 1e-6);
            assertEquals(a[i + D / 2], b[2 * i + 1], 1e-6);
        }
    }

    static float[] rotated(float[] head, int pos, DecoderConfig.RopeStyle style) {
        float[] y = head.clone();
        Rope.apply(y, 1, 1, head.length, pos, 10000, style);
        return y;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
