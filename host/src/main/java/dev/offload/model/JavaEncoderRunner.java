package dev.offload.model;

/** The encoder on the pure-Java reference ({@link EncoderReference}). */
public record JavaEncoderRunner(EncoderModel model, ActivationQuantization quantization) implements EncoderRunner {
    @Override
    public String device() {
        return "java (pure-Java reference, " + Runtime.getRuntime().availableProcessors() + " cores)";
    }

    @Override
    public float[] lastHiddenState(TokenBatch batch) { return EncoderReference.forward(model, batch, quantization); }
}
