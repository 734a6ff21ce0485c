package dev.offload.server;

/**
 * Decides when a model's generations run. Today there is one implementation, {@link SerialGenerationScheduler}: one
 * generation at a time per model, in arrival order, as {@code GenerationSession.generate} runs them (one sequence,
 * its own KV cache, its own sampler).
 *
 * <p>This is the seam for continuous batching: a scheduler that keeps several {@link GenerationJob}s in flight and
 * advances them all by one decode step per device run, admitting new jobs between steps and retiring finished or
 * cancelled ones. It needs a decoder with a batched KV cache (one slot per sequence in a shared pool) and a step call
 * that takes one token per live sequence; the routes, the job's events and cancellation stay as they are.
 */
interface GenerationScheduler extends AutoCloseable {
    /** Queues a generation; throws {@link ApiException#queueFull} when {@code --max-queue} jobs already wait. */
    GenerationJob submit(GenerationRequest request);

    /** Jobs waiting (not yet running). */
    int depth();

    @Override void close();
}
