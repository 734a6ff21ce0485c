package dev.offload.decoder;

import dev.offload.graph.TensorType;
import dev.offload.profile.ProfileReport;
import dev.offload.profile.ProfileTotals;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.KvCache;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.PlacementSpec;
import dev.offload.runtime.ShapeRuntimes;
import dev.offload.tensor.DType;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The decoder on OpenCL devices: {@link DecoderGraph} run by {@link GraphRuntime}s on a placement (one device, or
 * layers split across devices: {@code layer.0-7=cl:0:0,layer.8-15=cl:0:1}), the weights resident once in their
 * quantized blocks, each sequence's KV cache on the device of each layer ({@link KvCache}).
 *
 * <p>Graphs have static shapes: the one-token step graph is built once and kept; a prompt runs in chunks of at most
 * {@value #PREFILL_CHUNK} tokens, each length's graph kept while recently used. Thread-safe; a cache is used by one
 * sequence at a time.
 *
 * <p>Without profiling, the step graph records its launches at its first run and replays them for every token
 * ({@link ShapeRuntimes#replayPinned}): the token's embedding row and position are written into the recorded input
 * buffers, each run of recorded nodes is one command, and only the causal attention nodes, whose arguments follow the
 * KV cache's length, are enqueued as usual. {@code OFFLOAD_REPLAY=0} turns it off.
 *
 * <p>Profiling is opt-in: every prefill chunk and decode step folds into one {@link ProfileTotals} as it runs (flat
 * memory), the decode steps' rows labelled {@code decode:<layer>} as the synthetic decoder's profile does.
 */
public final class DeviceDecoder implements DecoderBackend {
    /** The longest prompt piece one graph takes: bounds its activations ([chunk][ffn] floats) and the number of shapes. */
    public static final int PREFILL_CHUNK = 256;
    private static final int KEPT_PREFILL_SHAPES = 3;
    private static final Step DECODE = new Step(1, false);

    private final DecoderConfig config;
    private final QuantizedWeights weights;
    private final int maxContext;
    private final PlacementSpec placement;
    private final DevicePool pool;
    private final ShapeRuntimes<Step> runtimes;

    /** A graph's shape: tokens in the step, and whether it gives every token's logits or the last one's. */
    private record Step(int tokens, boolean allLogits) {}
    private final boolean profiling;
    private final ProfileTotals runs = new ProfileTotals();
    private long prefillTokens, prefillChunks, decodeSteps, decodeNs;   // guarded by this, with runs

    /**
     * @param maxContext the most positions a sequence may use (the rotary tables cover these); at most the model's
     * @param log        where auto placement reports its measurements (null: quiet)
     */
    public DeviceDecoder(DecoderConfig config, QuantizedWeights weights, int maxContext, DevicePool pool, PlacementSpec placement,
                         boolean strict, boolean profiling, PrintStream log) {
        if (maxContext < 1 || maxContext > config.contextLength()) {
            throw new IllegalArgumentException("context " + maxContext + " outside 1.." + config.contextLength() + " (the model's)");
        }
        this.config = config;
        this.weights = weights;
        this.maxContext = maxContext;
        this.placement = placement;
        this.pool = pool;
        this.profiling = profiling;
        DecoderGraph.Ropes ropes = DecoderGraph.Ropes.of(config, maxContext);
        this.runtimes = new ShapeRuntimes<Step>(step -> DecoderGraph.build(config, weights, ropes, step.tokens(), step.allLogits()),
                pool, placement, OpImplementations.defaults(), strict, KEPT_PREFILL_SHAPES, step -> step.equals(DECODE), log)
                .replayPinned(!profiling);   // a replayed step's profile has a row per recorded segment, not per node
    }

    /** What the one-token step graph's runtime does about record-and-replay ({@link GraphRuntime#replayStatus}). */
    public String stepReplayStatus() { return runtimes.replayStatus(DECODE); }

    @Override public DecoderConfig config() { return config; }

    @Override
    public String device() {
        List<String> devices = new ArrayList<>();
        String single = placement.singleDevice();
        for (var d : single != null ? List.of(pool.get(single)) : pool.distinct()) devices.add(d.description());
        return placement + (devices.isEmpty() ? "" : " (" + String.join("; ", devices) + ")");
    }

    /** The plan of a step of {@code tokens} tokens (building its runtime if needed). */
    public ExecutionPlan plan(int tokens) { return runtimes.plan(new Step(tokens, false)); }

    /** Bytes of weights resident on all devices. */
    public long residentBytes() { return runtimes.weights().totalBytes(); }

    /** A sequence's KV cache on the devices its layers run on. */
    private final class DeviceCache implements Cache {
        final KvCache kv;
        int length;

        DeviceCache(int capacity) { kv = new KvCache(capacity); }

        DeviceDecoder owner() { return DeviceDecoder.this; }

        @Override public int length() { return length; }

        @Override public int capacity() { return kv.capacity(); }

        @Override public void close() { kv.close(); }
    }

    @Override
    public Cache newCache(int capacity) {
        if (capacity < 1 || capacity > maxContext) {
            throw new IllegalArgumentException("KV capacity " + capacity + " outside 1.." + maxContext + " (this decoder's context)");
        }
        return new DeviceCache(capacity);
    }

    @Override
    public float[] forward(int[] tokens, Cache cache) { return run(tokens, cache, false); }

    @Override
    public float[] forwardAll(int[] tokens, Cache cache) { return run(tokens, cache, true); }

    private float[] run(int[] tokens, Cache cache, boolean allLogits) {
        if (!(cache instanceof DeviceCache c) || c.owner() != this) throw new IllegalArgumentException("not a cache of this decoder: " + cache);
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens to run");
        if (c.length + tokens.length > c.capacity()) {
            throw new IllegalArgumentException("the context is full: " + c.length + " + " + tokens.length + " tokens > " + c.capacity());
        }
        float[] logits = allLogits ? new float[Math.multiplyExact(tokens.length, config.vocab())] : null;
        for (int from = 0; from < tokens.length; from += PREFILL_CHUNK) {
            int n = Math.min(PREFILL_CHUNK, tokens.length - from);
            int[] chunk = java.util.Arrays.copyOfRange(tokens, from, from + n), positions = new int[n];
            for (int t = 0; t < n; t++) positions[t] = c.length + t;
            Map<String, HostTensor> in = Map.of(
                    DecoderGraph.X, HostTensor.of(TensorType.of(DType.FLOAT32, 1, n, config.hidden()), weights.embed(chunk, config.hidden(), config.embeddingScale())),
                    DecoderGraph.POSITIONS, HostTensor.of(TensorType.of(DType.INT32, 1, n), positions));
            GraphRuntime.Result r = runtimes.run(new Step(n, allLogits && n > 1), in, c.kv);
            c.length += n;
            if (profiling) record(r, n, tokens.length > 1);   // a prompt (in chunks) or one decode step
            float[] out = r.output(DecoderGraph.LOGITS).floats();
            if (allLogits) System.arraycopy(out, 0, logits, from * config.vocab(), out.length);
            else logits = out;
        }
        // Gemma 2's soft-capped logits: on the host, where they are read anyway (a tanh a vocabulary entry).
        config.softcaps().capLogits(logits);
        return logits;
    }

    /** Folds one graph run into the profile: a prefill chunk as it is, a decode step's rows as decode:<layer>. */
    private synchronized void record(GraphRuntime.Result r, int tokens, boolean prefill) {
        List<dev.offload.profile.OpSample> samples = r.samples();
        if (prefill) {
            prefillTokens += tokens;
            prefillChunks++;
        } else {
            samples = samples.stream().map(o -> o.relabeled("decode:" + o.layer(), 0)).toList();
            decodeSteps++;
            decodeNs += r.wallNs();
        }
        runs.add(new ProfileReport.Run(samples, r.startNanoTime(), r.wallNs()));
    }

    /** The profile of the prefill chunks and decode steps so far (profiling on), or null before the first. */
    public synchronized ProfileReport profile(String model) {
        if (runs.runs() == 0) return null;
        ExecutionPlan plan = runtimes.lastPlan();
        List<String> devices = new ArrayList<>();
        for (var d : plan.devices()) devices.add(d.spec() + " = " + d.description());
        String graph = plan.graph().name() + " (" + plan.graph().nodes().size() + " nodes)";
        int meanPrompt = prefillChunks == 0 ? 0 : (int) (prefillTokens / prefillChunks);
        return new ProfileReport(new ProfileReport.Meta(model, graph, placement.toString(), devices, 1, meanPrompt, 0,
                plan.graph().weightBytes(), runtimes.weights().bytesByDevice()), runs,
                decodeSteps == 0 ? null : new ProfileReport.Decode((int) decodeSteps, meanPrompt, 1, decodeNs / 1e6 / decodeSteps));
    }

    /** Forgets the profile so far (after a warm-up). */
    public synchronized void resetProfile() {
        runs.clear();
        prefillTokens = prefillChunks = decodeSteps = decodeNs = 0;
    }

    @Override
    public void close() { runtimes.close(); }
}
