package dev.offload.model;

import java.util.Arrays;
import java.util.List;

/**
 * Encoder input: {@code batch} sequences of {@code length} tokens, row-major [batch][length]: token ids,
 * attention mask (1 = real token, 0 = padding) and token type ids.
 */
public record TokenBatch(int batch, int length, long[] ids, long[] mask, long[] typeIds) {
    public TokenBatch {
        int n = batch * length;
        if (ids.length != n || mask.length != n || typeIds.length != n) {
            throw new IllegalArgumentException("TokenBatch " + batch + "x" + length + ": arrays must hold " + n + " values");
        }
    }

    /** One sequence of token ids as the tokenizer produced it (no padding). */
    public record Sequence(long[] ids, long[] typeIds) {}

    /** Pads each sequence on the right with {@code padId} (mask 0) to the longest one. */
    public static TokenBatch pad(List<Sequence> sequences, long padId) { return pad(sequences, padId, 0); }

    /** Pads each sequence on the right with {@code padId} (mask 0) to the longest one, or to {@code minLength}. */
    public static TokenBatch pad(List<Sequence> sequences, long padId, int minLength) {
        int length = Math.max(minLength, sequences.stream().mapToInt(s -> s.ids().length).max().orElse(0));
        int b = sequences.size();
        long[] ids = new long[b * length], mask = new long[b * length], types = new long[b * length];
        Arrays.fill(ids, padId);
        for (int i = 0; i < b; i++) {
            Sequence s = sequences.get(i);
            System.arraycopy(s.ids(), 0, ids, i * length, s.ids().length);
            System.arraycopy(s.typeIds(), 0, types, i * length, s.typeIds().length);
            Arrays.fill(mask, i * length, i * length + s.ids().length, 1);
        }
        return new TokenBatch(b, length, ids, mask, types);
    }

    /** Number of real (unmasked) tokens of sequence {@code b}. */
    public int realTokens(int b) {
        int n = 0;
        for (int s = 0; s < length; s++) n += (int) mask[b * length + s];
        return n;
    }

    public int realTokens() {
        int n = 0;
        for (long m : mask) n += (int) m;
        return n;
    }

    /** Sequence {@code b} alone, without its padding. */
    public TokenBatch row(int b) {
        int n = realTokens(b);
        return new TokenBatch(1, n, Arrays.copyOfRange(ids, b * length, b * length + n),
                Arrays.copyOfRange(mask, b * length, b * length + n), Arrays.copyOfRange(typeIds, b * length, b * length + n));
    }
}
