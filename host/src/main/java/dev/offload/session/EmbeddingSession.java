package dev.offload.session;

import dev.offload.limits.Sizes;
import dev.offload.model.EncoderGraph;
import dev.offload.model.EncoderModel;
import dev.offload.model.Pooling;
import dev.offload.model.TokenBatch;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import dev.offload.profile.ProfileReport;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.ExecutionPlan;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * offload's embedding API: a sentence encoder opened once on a placement of devices, then run many times.
 *
 * <pre>{@code
 * try (EmbeddingSession session = EmbeddingSession.open(EmbeddingOptions.defaults().withPlacement("cl:cpu"))) {
 *     SentenceEmbeddings e = session.embed(List.of("A man is playing a guitar.", "Someone plays the guitar."));
 *     double similarity = e.cosine(0, 1);
 * }
 * }</pre>
 *
 * <p>Texts are tokenized, cut to {@link #maxLength()}, grouped into batches of {@link #batchSize()}, each batch padded
 * once to a length bucket (a multiple of {@value #LENGTH_STEP}, so that batches of similar length share one compiled
 * graph), run, mean- or CLS-pooled as the model card says and L2-normalized. Padding never changes a text's
 * embedding (per-sentence activation ranges, masked keys): a text gives the same bits alone or in any batch.
 *
 * <p>Thread-safe: any number of threads may call {@link #embed} at once; each call owns its buffers and the device
 * weights are shared. {@link #close} must come after the last call.
 */
public final class EmbeddingSession implements AutoCloseable {
    /** Batches are padded to a multiple of this many tokens (capped at the model's positions). */
    public static final int LENGTH_STEP = 16;

    private final EncoderModel model;
    private final WordPieceTokenizer tokenizer;
    private final Pooling pooling;
    private final boolean quantizedAtLoad;
    private final int maxLength;
    private final int batchSize;
    private final EncoderBackend backend;
    private final DevicePool ownedPool;
    private final double loadMs;

    private EmbeddingSession(EncoderSource.Loaded loaded, EmbeddingOptions options, double loadMs, PrintStream log) {
        EncoderModel m = loaded.model();
        this.quantizedAtLoad = options.quantizeInt8() && !m.quantized();
        this.model = quantizedAtLoad ? m.quantizeInt8() : m;
        this.tokenizer = loaded.tokenizer();
        this.pooling = loaded.pooling();
        this.batchSize = options.batchSize();
        int positions = model.config().maxPositions();
        this.maxLength = options.maxLength() > 0 ? options.maxLength()
                : Math.min(positions, tokenizer.fileMaxLength() > 0 ? tokenizer.fileMaxLength() : Integer.MAX_VALUE);
        if (maxLength > positions) throw new IllegalArgumentException("max length " + maxLength + " exceeds the model's " + positions + " positions");
        if (maxLength < 2) throw new IllegalArgumentException("max length " + maxLength + " leaves no room for [CLS] and [SEP]");
        checkRunSize(model.config(), batchSize, maxLength);
        this.loadMs = loadMs;
        // Devices: the caller's pool, else a registry (discovered once, and only when something needs OpenCL).
        SessionDevices.Where where = SessionDevices.Where.resolve(options.placement(), options.devices(), options::registryOrDefault);
        DevicePool owned = null;
        // --prune prunes at load; else a file pruned by offload compress runs its stored zeros sparse.
        EncoderGraph.Prune prune = options.prune() != null ? options.prune() : loaded.stored();
        if (where.javaOnly() && prune == null) {
            this.backend = new ReferenceEncoder(model);
        } else {
            DevicePool pool = where.pool() != null ? where.pool() : (owned = where.open(options::registryOrDefault));
            this.backend = new GraphEncoder(model, prune, pool, where.placement(), options.strict(), options.profiling(), log);
        }
        this.ownedPool = owned;
    }

    /** Opens the model on its placement (devices are opened; programs build on the first run, see {@link #warmUp}). */
    public static EmbeddingSession open(EmbeddingOptions options) { return open(options, null); }

    /** As {@link #open(EmbeddingOptions)}; auto placement reports its measurements on {@code log}. */
    public static EmbeddingSession open(EmbeddingOptions options, PrintStream log) {
        long t0 = System.nanoTime();
        EncoderSource.Loaded loaded = options.model().load();
        return new EmbeddingSession(loaded, options, (System.nanoTime() - t0) / 1e6, log);
    }

    /**
     * A run's largest activation ([batch, max length, the widest layer] floats) must be one Java array, and the few that
     * are alive at once must fit the heap: refused at open ({@link Sizes}), not as an exception in the first run.
     */
    private static void checkRunSize(dev.offload.model.EncoderConfig c, int batchSize, int maxLength) {
        String what = "batch size " + batchSize + " at max length " + maxLength;
        int activation = Sizes.arrayLength(what + ": one activation [batch, length, width]", batchSize, maxLength,
                Math.max(c.hidden(), c.intermediate()));
        Sizes.fitsHeap(what + ": the activations alive during a run", Sizes.bytes(what, activation, 4L * 8));
    }

    /** Texts as token ids, cut to {@link #maxLength()} with [CLS] and [SEP]. */
    public record Tokenized(List<TokenBatch.Sequence> sequences, int truncated) {
        public long tokens() { return sequences.stream().mapToLong(s -> s.ids().length).sum(); }

        public int longest() { return sequences.stream().mapToInt(s -> s.ids().length).max().orElse(0); }
    }

    /** Sees each batch as it is embedded (for writing hidden states, or progress). */
    @FunctionalInterface
    public interface BatchListener {
        /** @param first index of the batch's first text; {@code hidden} is its last_hidden_state [batch][length][hidden] */
        void batchDone(int first, TokenBatch batch, float[] hidden);
    }

    public Tokenized tokenize(List<String> texts) {
        List<TokenBatch.Sequence> seqs = new ArrayList<>(texts.size());
        int truncated = 0;
        for (String text : texts) {
            TokenBatch.Sequence s = tokenizer.encode(text, maxLength);
            if (s.ids().length == maxLength && tokenizer.ids(text).size() > maxLength - 2) truncated++;
            seqs.add(s);
        }
        return new Tokenized(seqs, truncated);
    }

    /** The embeddings of {@code texts}, in order. */
    public SentenceEmbeddings embed(List<String> texts) { return embed(tokenize(texts), 0, null); }

    /**
     * The embeddings of tokenized texts, in order.
     *
     * @param padTo    pad every batch to at least this many tokens (so per-token outputs of all batches stack); 0: none
     * @param listener called after each batch, or null
     */
    public SentenceEmbeddings embed(Tokenized texts, int padTo, BatchListener listener) {
        List<TokenBatch.Sequence> seqs = texts.sequences();
        int h = model.config().hidden();
        float[] vectors = new float[Math.multiplyExact(seqs.size(), h)];
        long tokens = 0;
        for (int from = 0; from < seqs.size(); from += batchSize) {
            TokenBatch batch = pad(seqs.subList(from, Math.min(seqs.size(), from + batchSize)), padTo);
            float[] hidden = backend.lastHiddenState(batch);
            float[] pooled = pooling.embed(hidden, batch, h);
            System.arraycopy(pooled, 0, vectors, from * h, pooled.length);
            tokens += batch.realTokens();
            if (listener != null) listener.batchDone(from, batch, hidden);
        }
        return new SentenceEmbeddings(vectors, seqs.size(), h, tokens, texts.truncated());
    }

    /** The sequences as one batch, padded once: to the longest (or {@code padTo}) rounded up to the length bucket. */
    public TokenBatch pad(List<TokenBatch.Sequence> sequences, int padTo) {
        int longest = Math.max(padTo, sequences.stream().mapToInt(s -> s.ids().length).max().orElse(0));
        int bucket = Math.min(model.config().maxPositions(), (longest + LENGTH_STEP - 1) / LENGTH_STEP * LENGTH_STEP);
        return TokenBatch.pad(sequences, tokenizer.padId(), Math.max(bucket, longest));
    }

    /** last_hidden_state [batch][length][hidden] of one batch as given (no further padding). */
    public float[] lastHiddenState(TokenBatch batch) { return backend.lastHiddenState(batch); }

    /**
     * Runs the first batch of {@code texts} once and forgets its profile: program builds (seconds on a first run, then
     * cached) and weight uploads happen here, not in what is timed next.
     *
     * @return the milliseconds it took
     */
    public double warmUp(Tokenized texts, int padTo) {
        long t0 = System.nanoTime();
        List<TokenBatch.Sequence> seqs = texts.sequences();
        backend.lastHiddenState(pad(seqs.subList(0, Math.min(batchSize, seqs.size())), padTo));
        if (backend instanceof GraphEncoder g) g.resetProfile();
        return (System.nanoTime() - t0) / 1e6;
    }

    /** The execution plan for batches shaped like {@code batch}; empty on the pure-Java reference. */
    public Optional<ExecutionPlan> plan(TokenBatch batch) {
        return backend instanceof GraphEncoder g ? Optional.of(g.plan(batch.batch(), batch.length())) : Optional.empty();
    }

    /**
     * What command-buffer replay does for batches shaped like {@code batch} (graph runtime only): the recording's
     * launches and segments, or why runs are plain (profiling on, a device without cl_khr_command_buffer, ...).
     */
    public Optional<String> replayStatus(TokenBatch batch) {
        return backend instanceof GraphEncoder g ? Optional.of(g.replayStatus(batch.batch(), batch.length())) : Optional.empty();
    }

    /** The profile of the runs since the last warm-up (profiling on, graph runtime only). */
    public Optional<ProfileReport> profile(int batch, int length) {
        return backend instanceof GraphEncoder g ? Optional.ofNullable(g.profile(batch, length)) : Optional.empty();
    }

    public EncoderModel model() { return model; }

    public WordPieceTokenizer tokenizer() { return tokenizer; }

    public Pooling pooling() { return pooling; }

    /** True when the float model was quantized to int8 at load ({@link EmbeddingOptions#quantizeInt8()}). */
    public boolean quantizedAtLoad() { return quantizedAtLoad; }

    public int maxLength() { return maxLength; }

    public int batchSize() { return batchSize; }

    /** The embedding width (the model's hidden size). */
    public int dimension() { return model.config().hidden(); }

    /** The device(s), in words. */
    public String device() { return backend.device(); }

    /** How long reading and importing the model took. */
    public double loadMs() { return loadMs; }

    @Override
    public void close() {
        try {
            backend.close();
        } finally {
            if (ownedPool != null) ownedPool.close();
        }
    }
}
