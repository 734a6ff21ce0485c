package dev.offload.session;

import dev.offload.decoder.DecoderBackend;
import dev.offload.decoder.DecoderReference;
import dev.offload.decoder.DeviceDecoder;
import dev.offload.decoder.QuantizedWeights;
import dev.offload.runtime.DevicePool;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import dev.offload.decoder.GgufDecoder;
import dev.offload.decoder.Sampler;
import dev.offload.decoder.SamplingParams;
import dev.offload.model.gguf.GgufFile;
import dev.offload.model.tokenizer.TextTokenizer;
import java.nio.file.Path;
import dev.offload.decoder.ChatTemplate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * offload's text-generation API: a decoder LLM read once from a GGUF file, then asked to continue prompts, its
 * text streamed to a callback as whole UTF-8 characters. It computes on OpenCL devices ({@link DeviceDecoder}: the
 * weights resident once in their quantized blocks, the KV cache on the device) or, with placement {@code java}, on
 * the pure-Java float reference ({@link DecoderReference}).
 *
 * <pre>{@code
 * try (GenerationSession session = GenerationSession.open(Path.of("model.gguf"), GenerationOptions.defaults())) {
 *     GenerationSession.Result r = session.generate("The capital of France is", true, 32, 0, SamplingParams.greedy(), System.out::print);
 *     System.out.printf("%n%.1f tok/s%n", r.generatedTokensPerSecond());
 * }
 * }</pre>
 *
 * <p>Thread-safe: generations run one at a time (each with its own KV cache and sampler); a {@link Conversation}
 * keeps its KV cache between turns.
 */
public final class GenerationSession implements AutoCloseable {
    /** Why a generation stopped. */
    public enum Stop {
        /** The model produced an end-of-generation token (EOS, EOT, ...). */
        END_OF_SEQUENCE,
        /** The requested number of tokens was generated. */
        MAX_TOKENS,
        /** The context (the KV cache) is full. */
        CONTEXT_FULL,
        /**
         * The text callback threw {@link java.util.concurrent.CancellationException} (a client hung up, a stop string
         * appeared): the result holds what was generated up to and including that piece.
         */
        CANCELLED
    }

    /** One generation: its text, token counts, why it stopped, and llama.cpp-style timings. */
    public record Result(String text, int[] tokens, int promptTokens, int generatedTokens, Stop stop, double promptMs, double generationMs) {
        public double promptTokensPerSecond() { return promptTokens / (promptMs / 1e3); }

        public double generatedTokensPerSecond() { return generatedTokens / (generationMs / 1e3); }

        public double msPerToken() { return generatedTokens == 0 ? 0 : generationMs / generatedTokens; }
    }

    private final GgufDecoder model;
    private final DecoderBackend backend;
    private final int context;
    private final double loadMs;
    /** Kept open (mapped) while the device decoder reads its blocks; null for the reference (weights copied out). */
    private final GgufFile file;
    private final Arena repacked;
    private final DevicePool ownedPool;
    private boolean warm;   // guarded by this

    private GenerationSession(GgufDecoder model, DecoderBackend backend, int context, double loadMs, GgufFile file, Arena repacked,
                              DevicePool ownedPool) {
        this.model = model;
        this.backend = backend;
        this.context = context;
        this.loadMs = loadMs;
        this.file = file;
        this.repacked = repacked;
        this.ownedPool = ownedPool;
    }

    /** Reads the model onto the default device. */
    public static GenerationSession open(Path gguf) { return open(gguf, GenerationOptions.defaults(), null); }

    public static GenerationSession open(Path gguf, GenerationOptions options) { return open(gguf, options, null); }

    /**
     * Reads the model onto the placement the options name (the file is mapped; weights go to the devices as their
     * graphs are first run, see {@link #warmUp}); auto placement reports its measurements on {@code log}.
     */
    public static GenerationSession open(Path gguf, GenerationOptions options, PrintStream log) {
        long t0 = System.nanoTime();
        GgufFile file = GgufFile.open(gguf);
        Arena arena = null;
        DevicePool owned = null;
        try {
            GgufDecoder model = GgufDecoder.read(file);
            int context = Math.min(model.config().contextLength(), options.context() > 0 ? options.context() : GenerationOptions.DEFAULT_CONTEXT);
            SessionDevices.Where where = SessionDevices.Where.resolve(options.placement(), options.devices(), options::registryOrDefault);
            if (where.javaOnly()) {
                DecoderReference reference = new DecoderReference(model.config(), model.floatWeights(file));
                file.close();
                return new GenerationSession(model, reference, context, ms(t0), null, null, null);
            }
            arena = Arena.ofShared();
            QuantizedWeights weights = QuantizedWeights.load(file, model.config(), arena);
            DevicePool pool = where.pool() != null ? where.pool() : (owned = where.open(options::registryOrDefault));
            DeviceDecoder decoder = new DeviceDecoder(model.config(), weights, context, pool, where.placement(), options.strict(), options.profiling(), log);
            return new GenerationSession(model, decoder, context, ms(t0), file, arena, owned);
        } catch (RuntimeException | Error e) {
            if (owned != null) owned.close();
            if (arena != null) arena.close();
            file.close();
            throw e;
        }
    }

    private static double ms(long t0) { return (System.nanoTime() - t0) / 1e6; }

    public GgufDecoder model() { return model; }

    /** What computes the logits: the device decoder or the java reference. */
    public DecoderBackend backend() { return backend; }

    /** The per-layer profile of the prefills and decode steps so far (profiling on, device decoder), if any. */
    public java.util.Optional<dev.offload.profile.ProfileReport> profile() {
        return backend instanceof DeviceDecoder d ? java.util.Optional.ofNullable(d.profile(model.name())) : java.util.Optional.empty();
    }

    /** Forgets the profile so far (after a warm-up). */
    public void resetProfile() { if (backend instanceof DeviceDecoder d) d.resetProfile(); }

    /** The most positions a sequence of this session may use. */
    public int context() { return context; }

    /**
     * Builds the programs and puts the weights on the devices (a prefill and a decode step), so that the timings of a
     * generation are the model's and not the setup's; the first generation does it by itself, untimed, and the
     * warm-up's samples are dropped from the profile. llama.cpp warms up the same way.
     */
    public synchronized void warmUp() {
        if (warm || !(backend instanceof DeviceDecoder)) return;   // the reference has nothing to build or upload
        TextTokenizer tok = model.tokenizer();
        try (DecoderBackend.Cache c = backend.newCache(Math.min(context, 3))) {
            int token = tok.bos() >= 0 ? tok.bos() : 0;
            backend.forward(new int[] {token, token}, c);
            backend.forward(new int[] {token}, c);
        }
        resetProfile();
        warm = true;
    }

    public TextTokenizer tokenizer() { return model.tokenizer(); }

    /** The model's chat template ({@code tokenizer.chat_template}), if the file has one. */
    public java.util.Optional<ChatTemplate> chatTemplate() {
        TextTokenizer tok = model.tokenizer();
        return model.chatTemplate().map(t -> new ChatTemplate(t, tok.bos() >= 0 ? tok.piece(tok.bos()) : "",
                tok.eos() >= 0 ? tok.piece(tok.eos()) : ""));
    }

    /**
     * The prompt for a conversation in the model's own chat format, ending where the assistant's answer starts; give
     * it to {@link #generate} with {@code addBos} false when it already starts with BOS ({@link #startsWithBos}).
     */
    public String chatPrompt(List<ChatTemplate.Message> messages) {
        return chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                "the model has no chat template (tokenizer.chat_template); continue a plain prompt instead")).render(messages, true);
    }

    /** The number of tokens {@link #generate} feeds for {@code prompt} (BOS included when it adds one). */
    public int promptTokens(String prompt, boolean addBos) {
        TextTokenizer tok = model.tokenizer();
        return tok.encode(prompt, addBos && tok.addsBos()).length;
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
     * @param context    KV cache positions (prompt + generated); 0 or more than the session's {@link #context()}: that
     * @param onText     receives the text as it is produced (may be null); it may throw
     *                   {@link java.util.concurrent.CancellationException} to stop ({@link Stop#CANCELLED})
     */
    public synchronized Result generate(String prompt, boolean addBos, int maxTokens, int context, SamplingParams sampling, Consumer<String> onText) {
        TextTokenizer tok = model.tokenizer();
        int[] promptIds = tok.encode(prompt, addBos && tok.addsBos());
        if (promptIds.length == 0) throw new IllegalArgumentException("the prompt is empty (no tokens); give some text or keep BOS");
        try (Sequence s = new Sequence(context)) {
            return s.run(promptIds, maxTokens, new Sampler(sampling), onText);
        }
    }

    /**
     * A chat that keeps its KV cache between turns: each {@link #say} feeds only what the chat template adds for the
     * new user turn (the rendered conversation minus what the cache already holds), then generates the answer.
     * Not thread-safe; one per conversation. Close it to free its KV cache.
     */
    public final class Conversation implements AutoCloseable {
        private final ChatTemplate template;
        private final Sequence sequence;
        private final Sampler sampler;
        private final List<ChatTemplate.Message> messages = new ArrayList<>();
        private String fed = "";

        private Conversation(ChatTemplate template, String system, int context, SamplingParams sampling) {
            this.template = template;
            this.sequence = new Sequence(context);
            this.sampler = new Sampler(sampling);
            if (system != null) messages.add(new ChatTemplate.Message("system", system));
        }

        /** The user's turn and the model's answer to it. */
        public Result say(String user, int maxTokens, Consumer<String> onText) {
            synchronized (GenerationSession.this) {
                messages.add(new ChatTemplate.Message("user", user));
                String prompt = template.render(messages, true);
                if (!prompt.startsWith(fed)) {
                    throw new IllegalStateException("the chat template rewrote earlier turns; start a new conversation");
                }
                String delta = prompt.substring(fed.length());
                TextTokenizer tok = model.tokenizer();
                boolean bos = sequence.length == 0 && tok.addsBos() && !startsWithBos(prompt);
                Result r = sequence.run(tok.encode(delta, bos), maxTokens, sampler, onText);
                messages.add(new ChatTemplate.Message("assistant", r.text()));
                fed = prompt + r.text();
                return r;
            }
        }

        /** Positions of the context used so far. */
        public int contextUsed() { return sequence.length; }

        @Override public void close() { sequence.close(); }
    }

    /** A conversation in the model's chat template; {@code system} may be null. */
    public Conversation conversation(String system, int context, SamplingParams sampling) {
        ChatTemplate t = chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                "the model has no chat template (tokenizer.chat_template); chat needs one"));
        return new Conversation(t, system, context, sampling);
    }

    /** One sequence's tokens and KV cache; {@link #run} feeds new tokens and generates after them. */
    private final class Sequence implements AutoCloseable {
        final DecoderBackend.Cache state;
        final int capacity;
        final int[] history;
        int length;      // tokens in the history
        int cached;      // of those, in the KV cache (the last sampled token waits for the next step)

        Sequence(int context) {
            if (context < 0) throw new IllegalArgumentException("context must be >= 0 (0: the session's), got " + context);
            capacity = context == 0 ? GenerationSession.this.context : Math.min(context, GenerationSession.this.context);
            state = backend.newCache(capacity);
            history = new int[capacity];
        }

        Result run(int[] ids, int maxTokens, Sampler sampler, Consumer<String> onText) {
            if (maxTokens < 0) throw new IllegalArgumentException("max tokens must be >= 0, got " + maxTokens);
            if (length + ids.length >= capacity) {
                throw new IllegalArgumentException("the prompt has " + (length + ids.length) + " tokens; the context holds " + capacity
                        + " (raise --ctx, up to " + GenerationSession.this.context + ")");
            }
            TextTokenizer tok = model.tokenizer();
            warmUp();
            int start = length;
            System.arraycopy(ids, 0, history, length, ids.length);
            length += ids.length;
            long t0 = System.nanoTime();
            float[] logits = backend.forward(Arrays.copyOfRange(history, cached, length), state);
            cached = length;
            long t1 = System.nanoTime();
            TextTokenizer.StreamingDecoder text = tok.streamingDecoder(false);
            StringBuilder out = new StringBuilder();
            Stop stop = Stop.MAX_TOKENS;
            int generated = 0, firstGenerated = length;
            while (generated < maxTokens) {
                if (length >= capacity) { stop = Stop.CONTEXT_FULL; break; }
                int next = sampler.next(logits, history, length);
                if (tok.isEndOfGeneration(next)) { stop = Stop.END_OF_SEQUENCE; break; }
                history[length++] = next;
                generated++;
                String piece = text.push(next);
                out.append(piece);
                if (!deliver(onText, piece)) { stop = Stop.CANCELLED; break; }
                if (generated == maxTokens) break;
                if (length >= capacity) { stop = Stop.CONTEXT_FULL; break; }
                logits = backend.forward(new int[] {next}, state);
                cached = length;
            }
            String rest = text.finish();
            out.append(rest);
            if (stop != Stop.CANCELLED && !deliver(onText, rest)) stop = Stop.CANCELLED;
            long t2 = System.nanoTime();
            return new Result(out.toString(), Arrays.copyOfRange(history, firstGenerated, length), length - start - generated, generated,
                    stop, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
        }

        /** Hands {@code piece} to the callback; false when it asked to stop. */
        private static boolean deliver(Consumer<String> onText, String piece) {
            if (onText == null || piece.isEmpty()) return true;
            try {
                onText.accept(piece);
                return true;
            } catch (java.util.concurrent.CancellationException stop) {
                return false;
            }
        }

        @Override public void close() { state.close(); }
    }

    @Override
    public synchronized void close() {
        backend.close();
        if (ownedPool != null) ownedPool.close();
        if (repacked != null) repacked.close();
        if (file != null) file.close();
    }
}
