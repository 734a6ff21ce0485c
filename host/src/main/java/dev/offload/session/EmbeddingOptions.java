package dev.offload.session;

import dev.offload.device.DeviceRegistry;
import dev.offload.model.EncoderGraph;
import dev.offload.model.ModelCatalog;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.PlacementSpec;

/**
 * How an {@link EmbeddingSession} opens: which model, where it runs, how texts are batched. Immutable; start from
 * {@link #defaults()} and change what you need with the {@code with...} methods.
 *
 * @param model        the encoder and its tokenizer
 * @param placement    where nodes run; null: the registry's default device ($OFFLOAD_DEVICE, else the first
 *                     GPU/accelerator, else the CPU)
 * @param registry     the devices to open; null: discovered with the process's settings (config/OffloadSettings:
 *                     $OFFLOAD_BINDING, Panama by default) and the bitstream store and program cache they name
 * @param devices      already open devices to use instead of a registry (the session leaves them open); usually null
 * @param batchSize    texts per device run
 * @param maxLength    tokens per text at most, [CLS] and [SEP] included; 0: the tokenizer's, else the model's positions
 * @param prune        magnitude-prune the int8 weights at load (sparse kernels); null: dense
 * @param quantizeInt8 quantize a float model's linear weights to int8 per output channel at load
 * @param strict       fail instead of falling back to another device when an op cannot run where it is placed
 * @param profiling    keep every run's op samples for {@link EmbeddingSession#profile()} (off: nothing grows with use)
 */
public record EmbeddingOptions(EncoderSource model, PlacementSpec placement, DeviceRegistry registry, DevicePool devices,
                               int batchSize, int maxLength, EncoderGraph.Prune prune, boolean quantizeInt8,
                               boolean strict, boolean profiling) {
    public EmbeddingOptions {
        if (model == null) throw new IllegalArgumentException("no model: give an EncoderSource");
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        if (maxLength < 0) throw new IllegalArgumentException("max length must be >= 0 (0: the tokenizer's), got " + maxLength);
    }

    /** all-MiniLM-L6-v2-q on the default device, batches of 8, dense, no profiling. */
    public static EmbeddingOptions defaults() {
        return new EmbeddingOptions(EncoderSource.known(ModelCatalog.ALL_MINILM_L6_V2_Q), null, null, null, 8, 0, null, false, false, false);
    }

    /** A known model's name (all-minilm-l6-v2-q, bge-small-en-v15-q, all-minilm-l6-v2) or an .onnx path. */
    public EmbeddingOptions withModel(String nameOrPath) { return withModel(EncoderSource.parse(nameOrPath, null)); }

    public EmbeddingOptions withModel(EncoderSource m) {
        return new EmbeddingOptions(m, placement, registry, devices, batchSize, maxLength, prune, quantizeInt8, strict, profiling);
    }

    /** A device spec ({@code java}, {@code cl:cpu}, {@code cl:0:1}), placement rules, or {@code auto}. */
    public EmbeddingOptions withPlacement(String spec) { return withPlacement(PlacementSpec.parse(spec)); }

    public EmbeddingOptions withPlacement(PlacementSpec p) {
        return new EmbeddingOptions(model, p, registry, devices, batchSize, maxLength, prune, quantizeInt8, strict, profiling);
    }

    public EmbeddingOptions withRegistry(DeviceRegistry r) {
        return new EmbeddingOptions(model, placement, r, devices, batchSize, maxLength, prune, quantizeInt8, strict, profiling);
    }

    public EmbeddingOptions withDevices(DevicePool d) {
        return new EmbeddingOptions(model, placement, registry, d, batchSize, maxLength, prune, quantizeInt8, strict, profiling);
    }

    public EmbeddingOptions withBatchSize(int n) {
        return new EmbeddingOptions(model, placement, registry, devices, n, maxLength, prune, quantizeInt8, strict, profiling);
    }

    public EmbeddingOptions withMaxLength(int n) {
        return new EmbeddingOptions(model, placement, registry, devices, batchSize, n, prune, quantizeInt8, strict, profiling);
    }

    public EmbeddingOptions withPrune(EncoderGraph.Prune p) {
        return new EmbeddingOptions(model, placement, registry, devices, batchSize, maxLength, p, quantizeInt8, strict, profiling);
    }

    public EmbeddingOptions withQuantizeInt8(boolean q) {
        return new EmbeddingOptions(model, placement, registry, devices, batchSize, maxLength, prune, q, strict, profiling);
    }

    public EmbeddingOptions withStrict(boolean s) {
        return new EmbeddingOptions(model, placement, registry, devices, batchSize, maxLength, prune, quantizeInt8, s, profiling);
    }

    public EmbeddingOptions withProfiling(boolean p) {
        return new EmbeddingOptions(model, placement, registry, devices, batchSize, maxLength, prune, quantizeInt8, strict, p);
    }

    /** The registry to open devices from: the given one, else the process's settings (read once) with its program store. */
    DeviceRegistry registryOrDefault() { return SessionDevices.registry(registry); }
}
