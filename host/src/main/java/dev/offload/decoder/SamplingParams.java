package dev.offload.decoder;

/**
 * How the next token is chosen from the logits, as llama.cpp's samplers do it: repetition penalty over the last
 * {@code repeatLastN} tokens, then top-k, top-p (nucleus), min-p, temperature, and a draw from the rest with a
 * seeded generator. {@code temperature == 0} is greedy: the highest logit, the lowest id on ties, fully deterministic.
 *
 * @param topK          keep the k most likely tokens; 0: all
 * @param topP          keep the most likely tokens whose probabilities sum to at least p; 1: all
 * @param minP          drop tokens less likely than minP times the most likely one; 0: none
 * @param repeatPenalty divide positive (multiply negative) logits of recently seen tokens by this; 1: off
 * @param repeatLastN   how many recent tokens the penalty looks at
 * @param seed          the generator's seed: the same seed, logits and history give the same token
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repeatPenalty, int repeatLastN, long seed) {
    public SamplingParams {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0: off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP < 1)) throw new IllegalArgumentException("min-p must be in [0, 1), got " + minP);
        if (!(repeatPenalty > 0) || Float.isInfinite(repeatPenalty)) throw new IllegalArgumentException("repeat penalty must be > 0 (1: off), got " + repeatPenalty);
        if (repeatLastN < 0) throw new IllegalArgumentException("repeat-last-n must be >= 0, got " + repeatLastN);
    }

    /** llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, repeat penalty 1 over 64 tokens. */
    public static SamplingParams defaults(long seed) { return new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1.0f, 64, seed); }

    /** Always the most likely token. */
    public static SamplingParams greedy() { return new SamplingParams(0, 0, 1, 0, 1, 64, 0); }

    public boolean isGreedy() { return temperature == 0; }
}
