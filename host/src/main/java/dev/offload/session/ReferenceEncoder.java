package dev.offload.session;

import dev.offload.model.ActivationQuantization;
import dev.offload.model.EncoderModel;
import dev.offload.model.EncoderReference;
import dev.offload.model.TokenBatch;

/** The encoder on the pure-Java reference ({@link EncoderReference}): the {@code java} device. */
public record ReferenceEncoder(EncoderModel model) implements EncoderBackend {
    @Override
    public String device() {
        return "java (pure-Java reference, " + Runtime.getRuntime().availableProcessors() + " cores)";
    }

    @Override
    public float[] lastHiddenState(TokenBatch batch) {
        return EncoderReference.forward(model, batch, ActivationQuantization.PER_SENTENCE);
    }
}
