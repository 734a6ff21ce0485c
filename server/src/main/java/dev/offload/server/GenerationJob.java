package dev.offload.server;

import dev.offload.session.GenerationSession;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One generation between the scheduler's thread, which runs it, and the request's thread, which sends its text: the
 * text arrives as {@link Event}s in order, ending with one {@link Finished} (or {@link Failed}). The generator never
 * waits for the network; a client that goes away {@link #cancel}s the job and its generation stops at the next piece
 * of text (the session's text callback throws), freeing the model for the next request.
 */
final class GenerationJob {
    sealed interface Event {}

    /** Text to send (stop strings already cut). */
    record Text(String text) implements Event {}

    /**
     * The end: OpenAI's {@code finish_reason} (stop, length), or cancelled / error for the metrics.
     *
     * @param completionTokens tokens generated; when a stop string cut the text it is the token count of what was generated up to
     *                         there, re-encoded (the session reports counts only for generations it ends itself)
     */
    record Finished(String finishReason, int completionTokens, double tokensPerSecond) implements Event {}

    /** The generation failed (a bad request the session refused, or a fault). */
    record Failed(ApiException error) implements Event {}

    private final GenerationRequest request;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    GenerationJob(GenerationRequest request) { this.request = request; }

    GenerationRequest request() { return request; }

    /** Stops the generation at its next piece of text (or before it starts). */
    void cancel() { cancelled = true; }

    boolean cancelled() { return cancelled; }

    /** The next event, waiting for it. */
    Event next() throws InterruptedException { return events.take(); }

    /** Runs the generation on the calling thread (the scheduler's), queuing its events; returns how it ended. */
    Finished run(GenerationSession session) {
        if (cancelled) return finish(new Finished("cancelled", 0, 0));
        StopSequences stops = new StopSequences(request.stop());
        try {
            GenerationSession.Result r = session.generate(request.prompt(), request.addBos(), request.maxTokens(), request.context(),
                    request.sampling(), piece -> {
                        if (cancelled) throw new java.util.concurrent.CancellationException("the client hung up");
                        send(stops.push(piece));
                        if (stops.matched()) throw new java.util.concurrent.CancellationException("a stop string");
                    });
            double rate = r.generatedTokens() == 0 ? 0 : r.generatedTokensPerSecond();
            if (r.stop() == GenerationSession.Stop.CANCELLED) return finish(new Finished(cancelled ? "cancelled" : "stop", r.generatedTokens(), rate));
            send(stops.finish());
            String reason = r.stop() == GenerationSession.Stop.END_OF_SEQUENCE ? "stop" : "length";
            return finish(new Finished(reason, r.generatedTokens(), rate));
        } catch (IllegalArgumentException e) {
            events.add(new Failed(ApiException.invalid(null, e.getMessage())));
            return new Finished("error", 0, 0);
        } catch (RuntimeException e) {
            events.add(new Failed(ApiException.internal("generation failed: " + e)));
            return new Finished("error", 0, 0);
        }
    }

    /** Fails a job that will never run (the server is closing). */
    void abandon(ApiException why) { events.add(new Failed(why)); }

    private void send(String text) {
        if (!text.isEmpty()) events.add(new Text(text));
    }

    private Finished finish(Finished f) {
        events.add(f);
        return f;
    }
}
