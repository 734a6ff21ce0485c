package dev.offload.spark;

import dev.offload.session.EmbeddingOptions;
import java.io.Serializable;

/**
 * What Spark ships to every task: plain data only (a model name or path, numbers, column names), never a session
 * or a device handle. Each executor opens what it names itself ({@link ExecutorRuntime}).
 *
 * @param model          a known model's name (all-minilm-l6-v2-q, bge-small-en-v15-q, ...) or an .onnx path that
 *                       exists on every executor
 * @param resourceName   the Spark resource whose assigned addresses are device specs ({@code offload devices
 *                       --spark-resources NAME}); tasks without one run on the CPU device
 * @param batchSize      rows of a partition embedded together (also the session's device batch)
 * @param maxLength      tokens per text at most; 0: the tokenizer's
 * @param outputColumn   the appended {@code array<float>} column
 * @param deviceColumn   if not null, a string column with the device spec each row was embedded on
 */
public record SparkEmbeddingOptions(String model, String resourceName, int batchSize, int maxLength,
                                    String outputColumn, String deviceColumn) implements Serializable {
    public SparkEmbeddingOptions {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("no model: give a known model's name or an .onnx path");
        if (resourceName == null || resourceName.isBlank()) throw new IllegalArgumentException("no resource name");
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        if (maxLength < 0) throw new IllegalArgumentException("max length must be >= 0 (0: the tokenizer's), got " + maxLength);
        if (outputColumn == null || outputColumn.isBlank()) throw new IllegalArgumentException("no output column");
    }

    /** The resource name the discovery script and the docs use. */
    public static final String DEFAULT_RESOURCE = "offload";

    /** all-MiniLM-L6-v2-q, resource "offload", batches of 32, column "embedding", no device column. */
    public static SparkEmbeddingOptions defaults() {
        return new SparkEmbeddingOptions("all-minilm-l6-v2-q", DEFAULT_RESOURCE, 32, 0, "embedding", null);
    }

    public SparkEmbeddingOptions withModel(String m) {
        return new SparkEmbeddingOptions(m, resourceName, batchSize, maxLength, outputColumn, deviceColumn);
    }

    public SparkEmbeddingOptions withResourceName(String r) {
        return new SparkEmbeddingOptions(model, r, batchSize, maxLength, outputColumn, deviceColumn);
    }

    public SparkEmbeddingOptions withBatchSize(int n) {
        return new SparkEmbeddingOptions(model, resourceName, n, maxLength, outputColumn, deviceColumn);
    }

    public SparkEmbeddingOptions withMaxLength(int n) {
        return new SparkEmbeddingOptions(model, resourceName, batchSize, n, outputColumn, deviceColumn);
    }

    public SparkEmbeddingOptions withOutputColumn(String c) {
        return new SparkEmbeddingOptions(model, resourceName, batchSize, maxLength, c, deviceColumn);
    }

    public SparkEmbeddingOptions withDeviceColumn(String c) {
        return new SparkEmbeddingOptions(model, resourceName, batchSize, maxLength, outputColumn, c);
    }

    /** The session options these name on one device (what {@link ExecutorRuntime} opens on an executor). */
    public EmbeddingOptions sessionOptions(String deviceSpec) {
        return EmbeddingOptions.defaults().withModel(model).withBatchSize(batchSize).withMaxLength(maxLength)
                .withPlacement(deviceSpec);
    }
}
