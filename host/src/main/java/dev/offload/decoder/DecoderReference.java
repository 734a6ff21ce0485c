package dev.offload.decoder;

import dev.offload.graph.RotaryEmbedding;
import dev.offload.ops.attention.AttentionReference;
import dev.offload.ops.gemm.Activation;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.ops.layers.LayersReference;

/**
 * The decoder computed the plain way, from the op references the graph's java device uses (RMSNorm, linear,
 * causal grouped-query attention, SiLU gate, add, RoPE): the judge of every device's decoder logits.
 * Tokens run in order over a {@link State} that holds each layer's keys and values (the KV cache), so a prompt can go
 * in at once (prefill) and the answer one token at a time (decode); both give the same logits.
 *
 * <p>Two arithmetics ({@link Activations}): the model's own, float activations into every linear (what the recipe's
 * PyTorch computes), or the device's, each linear's input quantized per block of 32 to int8 first, as the device
 * graph and llama.cpp do. The weights are the same floats either way (a quantized file's blocks decoded exactly).
 */
public final class DecoderReference implements DecoderBackend {
    /** What every linear layer (Q, K, V, output projection, gate, up, down, logits) is fed. */
    public enum Activations {
        /** Float activations: the model's arithmetic, the one the recipe and the float GGUF define. */
        FLOAT,
        /**
         * Activations quantized per block of 32 values to int8 (ggml's Q8_0 rule, {@link BlockInt8Linear}) before
         * every linear: the device graph's arithmetic, so greedy continuations can be compared token for token.
         */
        INT8_BLOCKS
    }

    private final DecoderConfig config;
    private final DecoderWeights weights;
    private final Activations activations;

    /** The float-activation reference. */
    public DecoderReference(DecoderConfig config, DecoderWeights weights) { this(config, weights, Activations.FLOAT); }

    public DecoderReference(DecoderConfig config, DecoderWeights weights, Activations activations) {
        weights.check(config);
        if (activations == Activations.INT8_BLOCKS && (config.hidden() % BlockInt8Linear.BLOCK != 0 || config.ffn() % BlockInt8Linear.BLOCK != 0
                || config.queryDim() % BlockInt8Linear.BLOCK != 0)) {
            throw new IllegalArgumentException("int8-block activations need every linear's input a multiple of " + BlockInt8Linear.BLOCK
                    + " values: hidden " + config.hidden() + ", ffn " + config.ffn() + ", query " + config.queryDim());
        }
        this.config = config;
        this.weights = weights;
        this.activations = activations;
    }

    public Activations activations() { return activations; }

    @Override public DecoderConfig config() { return config; }

    @Override public String device() { return activations == Activations.FLOAT ? "java reference" : "java reference (int8-block activations)"; }

    @Override public Cache newCache(int capacity) { return newState(capacity); }

    @Override
    public float[] forward(int[] tokens, Cache cache) {
        if (!(cache instanceof State s)) throw new IllegalArgumentException("not a cache of the java reference: " + cache);
        return forward(tokens, s);
    }

    @Override
    public float[] forwardAll(int[] tokens, Cache cache) {
        if (!(cache instanceof State s)) throw new IllegalArgumentException("not a cache of the java reference: " + cache);
        return forwardAll(tokens, s);
    }

    @Override public void close() {}

    /** One sequence's keys and values per layer, [capacity][kvDim] each, and how many positions are filled. */
    public final class State implements Cache {
        private final float[][] keys, values;
        private final int capacity;
        private final RotaryEmbedding queryRope, keyRope, localQueryRope, localKeyRope;
        private int length;

        private State(int capacity) {
            if (capacity < 1 || capacity > config.contextLength()) {
                throw new IllegalArgumentException("KV capacity " + capacity + " outside 1.." + config.contextLength() + " (the model's context)");
            }
            this.capacity = capacity;
            queryRope = rope(config, capacity);
            keyRope = queryRope.withHeads(config.kvHeads());
            localQueryRope = config.window().keys() > 0 ? localRope(config, capacity) : null;
            localKeyRope = localQueryRope == null ? null : localQueryRope.withHeads(config.kvHeads());
            long floats = (long) capacity * config.kvDim();
            keys = new float[config.layers()][Math.toIntExact(floats)];
            values = new float[config.layers()][Math.toIntExact(floats)];
        }

        /** Positions filled so far. */
        @Override public int length() { return length; }

        @Override public int capacity() { return capacity; }

        @Override public void close() {}
    }

    /** A fresh state for up to {@code capacity} positions. */
    public State newState(int capacity) { return new State(capacity); }

    /** Runs {@code tokens} at the next positions of {@code state}; returns the logits after the last one [vocab]. */
    public float[] forward(int[] tokens, State state) { return run(tokens, state, false); }

    /** As {@link #forward}, but the logits after every token, [tokens][vocab] (for perplexity). */
    public float[] forwardAll(int[] tokens, State state) { return run(tokens, state, true); }

    private float[] run(int[] tokens, State s, boolean everyToken) {
        int n = tokens.length, h = config.hidden(), first = s.length;
        if (n == 0) throw new IllegalArgumentException("no tokens to run");
        if (first + n > s.capacity) throw new IllegalArgumentException("the context is full: " + first + " + " + n + " tokens > " + s.capacity);
        float[] x = new float[n * h];
        for (int t = 0; t < n; t++) {
            int id = tokens[t];
            if (id < 0 || id >= config.vocab()) throw new IllegalArgumentException("token " + id + " outside the vocabulary [0, " + config.vocab() + ")");
            System.arraycopy(weights.tokenEmbedding(), id * h, x, t * h, h);
        }
        float scale = config.embeddingScale();
        if (scale != 1f) for (int i = 0; i < x.length; i++) x[i] *= scale;   // Gemma: rows times sqrt(hidden), in float
        int qd = config.queryDim(), kvd = config.kvDim();
        int[] positions = new int[n];
        for (int t = 0; t < n; t++) positions[t] = first + t;
        for (int li = 0; li < config.layers(); li++) {
            DecoderWeights.Layer l = weights.layers().get(li);
            float[] a = LayersReference.rmsNorm(x, h, l.attentionNorm(), config.rmsEpsilon());
            float[] q = linear(a, l.wq(), l.bq(), n, h, qd);
            float[] k = linear(a, l.wk(), l.bk(), n, h, kvd);
            float[] v = linear(a, l.wv(), l.bv(), n, h, kvd);
            if (config.qkNorm()) {   // Qwen3: every head of Q and K RMS-normed on its own, before the rotation
                q = LayersReference.rmsNorm(q, config.headDim(), l.qNorm(), config.rmsEpsilon());
                k = LayersReference.rmsNorm(k, config.headDim(), l.kNorm(), config.rmsEpsilon());
            }
            boolean local = config.attentionWindow(li) > 0;   // Gemma 3's sliding-window layers rotate with their own base
            q = LayersReference.rope(q, positions, local ? s.localQueryRope : s.queryRope);
            k = LayersReference.rope(k, positions, local ? s.localKeyRope : s.keyRope);
            System.arraycopy(k, 0, s.keys[li], first * kvd, n * kvd);
            System.arraycopy(v, 0, s.values[li], first * kvd, n * kvd);
            int visible = first + n;
            float[] keys = java.util.Arrays.copyOf(s.keys[li], visible * kvd), values = java.util.Arrays.copyOf(s.values[li], visible * kvd);
            float[] o = AttentionReference.tokenMajor(config.heads(), config.kvHeads(), config.headDim(), true, config.attentionWindow(li),
                    config.attentionScale(), config.softcaps().attention(), q, keys, values, null, 1, n, visible);
            float[] attended = linear(o, l.wo(), null, n, qd, h);
            if (config.postNorms()) attended = LayersReference.rmsNorm(attended, h, l.attentionPostNorm(), config.rmsEpsilon());   // Gemma 3
            x = LayersReference.add(x, attended);
            float[] f = LayersReference.rmsNorm(x, h, l.ffnNorm(), config.rmsEpsilon());
            float[] gate = linear(f, l.wGate(), null, n, h, config.ffn()), up = linear(f, l.wUp(), null, n, h, config.ffn());
            float[] act = config.geluGate() ? LayersReference.geluGate(gate, up) : LayersReference.siluGate(gate, up);
            float[] fed = linear(act, l.wDown(), null, n, config.ffn(), h);
            if (config.postNorms()) fed = LayersReference.rmsNorm(fed, h, l.ffnPostNorm(), config.rmsEpsilon());
            x = LayersReference.add(x, fed);
        }
        s.length = first + n;
        int rows = everyToken ? n : 1;
        float[] last = everyToken ? x : java.util.Arrays.copyOfRange(x, (n - 1) * h, n * h);
        float[] normed = LayersReference.rmsNorm(last, h, weights.outputNorm(), config.rmsEpsilon());
        float[] logits = linear(normed, weights.output(), null, rows, h, config.vocab());
        config.softcaps().capLogits(logits);   // Gemma 2
        return logits;
    }

    /**
     * The rotary tables of a model's layers with global attention for positions 0..positions-1 (queries' heads;
     * {@link RotaryEmbedding#withHeads} for keys), positions scaled by {@link DecoderConfig#ropeScale}.
     */
    public static RotaryEmbedding rope(DecoderConfig c, int positions) {
        return RotaryEmbedding.of(c.heads(), c.headDim(), c.ropeStyle(), c.ropeBase(), positions, c.ropeScale());
    }

    /** The tables of its sliding-window layers: their own base and position scale (llama.cpp's freq_base_swa, freq_scale_swa). */
    public static RotaryEmbedding localRope(DecoderConfig c, int positions) {
        return RotaryEmbedding.of(c.heads(), c.headDim(), c.ropeStyle(), c.window().ropeBase(), positions, c.window().ropeScale());
    }

    private float[] linear(float[] x, float[] w, float[] bias, int rows, int in, int out) {
        return switch (activations) {
            case FLOAT -> Int8GemmReference.fp32Linear(x, w, bias, Activation.NONE, rows, in, out);
            case INT8_BLOCKS -> BlockInt8Linear.linear(x, w, bias, rows, in, out);
        };
    }
}
