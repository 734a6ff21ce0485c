package dev.offload.decoder;

/**
 * What computes a decoder's next-token logits: the java reference ({@link DecoderReference}, float weights) or the
 * device graph ({@link DeviceDecoder}, weights in their quantized blocks on OpenCL devices). A generation session
 * drives either the same way: one cache per sequence, prompt tokens in at once, then one token per step.
 */
public interface DecoderBackend extends AutoCloseable {
    /** One sequence's past (its KV cache): how many positions are filled, of how many. */
    interface Cache extends AutoCloseable {
        int length();

        int capacity();

        @Override void close();
    }

    DecoderConfig config();

    /** A fresh cache for up to {@code capacity} positions. */
    Cache newCache(int capacity);

    /** Runs {@code tokens} at the next positions of {@code cache}; returns the logits after the last one [vocab]. */
    float[] forward(int[] tokens, Cache cache);

    /** As {@link #forward}, but the logits after every token, [tokens][vocab] (perplexity). */
    float[] forwardAll(int[] tokens, Cache cache);

    /** Where it computes, for logs and timings ("java reference", a placement). */
    String device();

    @Override void close();
}
