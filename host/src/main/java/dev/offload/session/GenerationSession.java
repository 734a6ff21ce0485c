package dev.offload.session;

import dev.offload.decoder.DecoderReference;
import dev.offload.decoder.GgufDecoder;
import dev.offload.decoder.Sampler;
import dev.offload.decoder.SamplingParams;
import dev.offload.model.gguf.GgufFile;
import dev.offload.model.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * offload's text-generation API: a decoder LLM read once from a GGUF file, then asked to continue prompts, its
 * text streamed to a callback as whole UTF-8 characters. Today it computes on the pure-Java reference
 * ({@link DecoderReference}); the device decoder graph joins it next, behind the same calls.
 *
 * <p>Thread-safe: generations run one at a time (each with its own KV cache and sampler).
 */
public final class GenerationSession implements AutoCloseable {
    /** Why a generation stopped. */
    public enum Stop {
        /** The model produced an end-of-generation token (EOS, EOT, ...). */
        END_OF_SEQUENCE,
        /** The requested number of tokens was generated. */
        MAX_TOKENS,
        /** The context (the KV cache) is full. */
        CONTEXT_FULL
    }

    /** One generation: its text, token counts, why it stopped, and llama.cpp-style timings. */
    public record Result(String text, int[] tokens, int promptTokens, int generatedTokens, Stop stop, double promptMs, double generationMs) {
        public double promptTokensPerSecond() { return promptTokens / (promptMs / 1e3); }

        public double generatedTokensPerSecond() { return generatedTokens / (generationMs / 1e3); }

        public double msPerToken() { return generatedTokens == 0 ? 0 : generationMs / generatedTokens; }
    }

    private final GgufDecoder model;
    private final DecoderReference reference;
    private final double loadMs;

    private GenerationSession(GgufDecoder model, double loadMs) {
        this.model = model;
        this.reference = new DecoderReference(model.config(), model.weights());
        this.loadMs = loadMs;
    }

    /** Reads the model (the file is mapped, decoded and closed). */
    public static GenerationSession open(Path gguf) {
        long t0 = System.nanoTime();
        try (GgufFile file = GgufFile.open(gguf)) {
            return new GenerationSession(GgufDecoder.load(file), (System.nanoTime() - t0) / 1e6);
        }
    }

    public GgufDecoder model() { return model; }

    public TextTokenizer tokenizer() { return model.tokenizer(); }

    /** The model's chat template ({@code tokenizer.chat_template}), if the file has one. */
    public java.util.Optional<dev.offload.decoder.ChatTemplate> chatTemplate() {
        TextTokenizer tok = model.tokenizer();
        return model.chatTemplate().map(t -> new dev.offload.decoder.ChatTemplate(t, tok.bos() >= 0 ? tok.piece(tok.bos()) : "",
                tok.eos() >= 0 ? tok.piece(tok.eos()) : ""));
    }

    /**
     * The prompt for a conversation in the model's own chat format, ending where the assistant's answer starts; give
     * it to {@link #generate} with {@code addBos} false when it already starts with BOS ({@link #startsWithBos}).
     */
    public String chatPrompt(java.util.List<dev.offload.decoder.ChatTemplate.Message> messages) {
        return chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                "the model has no chat template (tokenizer.chat_template); continue a plain prompt instead")).render(messages, true);
    }

    /** Whether {@code prompt} begins with the BOS token's text (templates often write it themselves). */
    public boolean startsWithBos(String prompt) {
        TextTokenizer tok = model.tokenizer();
        return tok.bos() >= 0 && prompt.startsWith(tok.piece(tok.bos()));
    }

    public double loadMs() { return loadMs; }

    /**
     * Continues {@code prompt}.
     *
     * @param addBos     put BOS first when the model's tokenizer asks for it
     * @param maxTokens  generate at most this many tokens
     * @param context    KV cache positions (prompt + generated); at most the model's context length
     * @param onText     receives the text as it is produced (may be null)
     */
    public synchronized Result generate(String prompt, boolean addBos, int maxTokens, int context, SamplingParams sampling, Consumer<String> onText) {
        if (maxTokens < 0) throw new IllegalArgumentException("max tokens must be >= 0, got " + maxTokens);
        TextTokenizer tok = model.tokenizer();
        int[] promptIds = tok.encode(prompt, addBos && tok.addsBos());
        if (promptIds.length == 0) throw new IllegalArgumentException("the prompt is empty (no tokens); give some text or keep BOS");
        int capacity = Math.min(context, model.config().contextLength());
        if (promptIds.length >= capacity) {
            throw new IllegalArgumentException("the prompt has " + promptIds.length + " tokens; the context holds " + capacity + " (raise --ctx, up to " + model.config().contextLength() + ")");
        }
        DecoderReference.State state = reference.newState(capacity);
        Sampler sampler = new Sampler(sampling);
        int[] history = Arrays.copyOf(promptIds, capacity);
        int length = promptIds.length;

        long t0 = System.nanoTime();
        float[] logits = reference.forward(promptIds, state);
        long t1 = System.nanoTime();
        TextTokenizer.StreamingDecoder text = tok.streamingDecoder(false);
        StringBuilder out = new StringBuilder();
        Stop stop = Stop.MAX_TOKENS;
        int generated = 0;
        while (generated < maxTokens) {
            int next = sampler.next(logits, history, length);
            if (tok.isEndOfGeneration(next)) { stop = Stop.END_OF_SEQUENCE; break; }
            history[length++] = next;
            generated++;
            String piece = text.push(next);
            out.append(piece);
            if (onText != null && !piece.isEmpty()) onText.accept(piece);
            if (generated == maxTokens) break;
            if (length >= capacity) { stop = Stop.CONTEXT_FULL; break; }
            logits = reference.forward(new int[] {next}, state);
        }
        String rest = text.finish();
        out.append(rest);
        if (onText != null && !rest.isEmpty()) onText.accept(rest);
        long t2 = System.nanoTime();
        return new Result(out.toString(), Arrays.copyOfRange(history, promptIds.length, length), promptIds.length, generated, stop,
                (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }

    @Override
    public void close() {}
}
