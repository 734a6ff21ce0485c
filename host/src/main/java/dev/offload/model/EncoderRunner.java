package dev.offload.model;

/**
 * Runs an imported encoder on some device: the seam where device runtimes plug in. {@link JavaEncoderRunner}
 * is the pure-Java reference; the OpenCL graph runtime implements the same interface.
 */
public interface EncoderRunner extends AutoCloseable {
    /** The device, in words, for output and logs. */
    String device();

    EncoderModel model();

    /** last_hidden_state [batch][length][hidden] row-major, padded rows included as computed. */
    float[] lastHiddenState(TokenBatch batch);

    @Override
    default void close() {}
}
