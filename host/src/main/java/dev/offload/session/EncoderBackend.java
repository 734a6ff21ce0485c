package dev.offload.session;

import dev.offload.model.EncoderModel;
import dev.offload.model.TokenBatch;

/**
 * What computes an encoder's last_hidden_state for a batch: the pure-Java reference ({@link ReferenceEncoder}) or the
 * graph runtime on a placement of devices ({@link GraphEncoder}). Implementations are safe to call from several threads.
 */
public sealed interface EncoderBackend extends AutoCloseable permits ReferenceEncoder, GraphEncoder {
    /** The device(s), in words, for output and logs. */
    String device();

    EncoderModel model();

    /** last_hidden_state [batch][length][hidden] row-major, padded rows included as computed. */
    float[] lastHiddenState(TokenBatch batch);

    @Override
    default void close() {}
}
