package dev.offload.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** llama.cpp's perplexity method on models whose answers are known: chunking, BOS, the scored half, PPL and its ±. */
class PerplexityTest {
    @Test
    void aModelWithFlatLogitsHasThePerplexityOfItsVocabulary() {
        int vocab = 37, ctx = 16;
        int[] tokens = new int[5 * ctx + 7];
        for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 11 + 3) % vocab;
        Perplexity.Result r = Perplexity.compute(tokens, ctx, vocab, 1, 0, chunk -> new float[chunk.length * vocab], null);
        assertEquals(vocab, r.perplexity(), 1e-9);
        assertEquals(0, r.error(), 1e-12);
        assertEquals(5, r.chunks());   // the 7 tokens after the last whole chunk are dropped
        assertEquals(5L * (ctx / 2 - 1), r.scoredTokens());
    }

    @Test
    void eachChunkStartsWithBosAndOnlyItsSecondHalfIsScored() {
        int vocab = 8, ctx = 8;
        int[] tokens = new int[3 * ctx];
        for (int i = 0; i < tokens.length; i++) tokens[i] = 2 + i % 6;
        List<int[]> seen = new ArrayList<>();
        // The model puts about half the probability on token 2 everywhere (logit ln 7 against 0 for the other seven).
        float[] row = new float[vocab];
        row[2] = (float) Math.log(7);
        double weight = Math.exp(row[2]);
        Perplexity.Result r = Perplexity.compute(tokens, ctx, vocab, 1, 0, chunk -> {
            seen.add(chunk.clone());
            float[] out = new float[chunk.length * vocab];
            for (int t = 0; t < chunk.length; t++) System.arraycopy(row, 0, out, t * vocab, vocab);
            return out;
        }, null);
        assertEquals(3, seen.size());
        for (int c = 0; c < 3; c++) {
            int[] want = Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
            want[0] = 1;
            assertArrayEquals(want, seen.get(c), "chunk " + c);
        }
        // Scored: the logits after positions 4, 5, 6 against tokens 5, 6, 7 of each chunk.
        double p2 = weight / (weight + 7), pOther = 1 / (weight + 7);
        List<Double> nll = new ArrayList<>();
        for (int c = 0; c < 3; c++) for (int i = 4; i < 7; i++) nll.add(-Math.log(tokens[c * ctx + i + 1] == 2 ? p2 : pOther));
        double mean = nll.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double meanSquare = nll.stream().mapToDouble(v -> v * v).average().orElseThrow();
        assertEquals(Math.exp(mean), r.perplexity(), 1e-9 * Math.exp(mean));
        assertEquals(Math.exp(mean) * Math.sqrt((meanSquare - mean * mean) / (nll.size() - 1)), r.error(), 1e-9);
    }

    @Test
    void chunksCanBeLimitedAndAModelWithoutBosKeepsTheFirstToken() {
        int vocab = 5, ctx = 4;
        int[] tokens = {4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1};
        List<int[]> seen = new ArrayList<>();
        Perplexity.Result r = Perplexity.compute(tokens, ctx, vocab, -1, 2, chunk -> {
            seen.add(chunk.clone());
            return new float[chunk.length * vocab];
        }, null);
        assertEquals(2, r.chunks());
        assertArrayEquals(new int[] {4, 3, 2, 1}, seen.get(0));
        assertArrayEquals(new int[] {0, 1, 2, 3}, seen.get(1));
    }

    @Test
    void aTextShorterThanTwoChunksIsRefusedWithWhatItNeeds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Perplexity.compute(new int[31], 16, 4, 1, 0, chunk -> new float[chunk.length * 4], null));
        assertEquals("the text tokenizes to 31 tokens; perplexity at a context of 16 needs at least 32 (two chunks)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Perplexity.compute(new int[64], 7, 4, 1, 0, chunk -> new float[0], null));
    }
}
