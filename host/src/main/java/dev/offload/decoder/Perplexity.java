package dev.offload.decoder;

import java.util.function.Consumer;

/**
 * Perplexity the way llama.cpp's {@code llama-perplexity} measures it, so the two can be compared on the same file:
 * the text's tokens (BOS first when the model adds one) are cut into chunks of {@code ctx} tokens, the remainder
 * dropped; each chunk runs from an empty context with its first token replaced by BOS; only the second half of each
 * chunk is scored (so every scored token has at least ctx/2 tokens before it): the logits after positions ctx/2 ..
 * ctx-2 against the tokens that follow them. PPL = exp(mean negative log-likelihood), and the ± estimate is llama.cpp's:
 * PPL times the standard error of the mean NLL, sqrt(var / (count - 1)).
 */
public final class Perplexity {
    /** The model: the logits after every token of {@code tokens}, run from an empty context, [tokens][vocab]. */
    @FunctionalInterface
    public interface ChunkLogits {
        float[] forwardAll(int[] tokens);
    }

    /** After each chunk: its number (from 1), and the perplexity of every chunk so far. */
    public record Progress(int chunk, int chunks, double perplexity) {}

    /** The estimate, its ± and what it was computed over. */
    public record Result(double perplexity, double error, int chunks, int ctx, long scoredTokens, double meanNll) {}

    private Perplexity() {}

    /** Chunks {@code tokens} could give at context {@code ctx}; llama.cpp needs at least 2. */
    public static int chunksIn(int tokens, int ctx) { return tokens / ctx; }

    /** Refuses a context that is odd or under 4, and a text of fewer than two chunks (as llama.cpp does). */
    public static void requireEnough(int tokens, int ctx) {
        if (ctx < 4 || ctx % 2 != 0) throw new IllegalArgumentException("the context for perplexity must be even and at least 4, got " + ctx);
        if (tokens < 2 * ctx) {
            throw new IllegalArgumentException("the text tokenizes to " + tokens + " tokens; perplexity at a context of " + ctx
                    + " needs at least " + 2 * ctx + " (two chunks)");
        }
    }

    /**
     * @param tokens    the whole text's tokens, as the tokenizer gives them (BOS first when the model adds one)
     * @param ctx       tokens per chunk (even, at least 4)
     * @param bos       the BOS id put first in each chunk, or -1 when the model adds none
     * @param maxChunks at most this many chunks (0: all)
     */
    public static Result compute(int[] tokens, int ctx, int vocab, int bos, int maxChunks, ChunkLogits model, Consumer<Progress> progress) {
        requireEnough(tokens.length, ctx);
        int chunks = chunksIn(tokens.length, ctx);
        if (maxChunks > 0) chunks = Math.min(chunks, maxChunks);
        int first = ctx / 2;
        double sum = 0, sumSquares = 0;
        long count = 0;
        for (int c = 0; c < chunks; c++) {
            int[] chunk = java.util.Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
            if (bos >= 0) chunk[0] = bos;
            float[] logits = model.forwardAll(chunk);
            if (logits.length != (long) ctx * vocab) {
                throw new IllegalStateException("the model gave " + logits.length + " logits for " + ctx + " tokens of a " + vocab + "-token vocabulary");
            }
            for (int i = first; i < ctx - 1; i++) {
                double nll = negativeLogLikelihood(logits, i * vocab, vocab, chunk[i + 1]);
                sum += nll;
                sumSquares += nll * nll;
                count++;
            }
            if (progress != null) progress.accept(new Progress(c + 1, chunks, Math.exp(sum / count)));
        }
        double mean = sum / count, variance = sumSquares / count - mean * mean;
        double ppl = Math.exp(mean);
        return new Result(ppl, variance > 0 ? ppl * Math.sqrt(variance / (count - 1)) : 0, chunks, ctx, count, mean);
    }

    /** -log softmax(row)[target], in double, the maximum subtracted first. */
    static double negativeLogLikelihood(float[] logits, int offset, int vocab, int target) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) max = Math.max(max, logits[offset + j]);
        double sumExp = 0;
        for (int j = 0; j < vocab; j++) sumExp += Math.exp((double) logits[offset + j] - max);
        return Math.log(sumExp) - ((double) logits[offset + target] - max);
    }
}
