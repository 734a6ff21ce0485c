package dev.offload.model;

/**
 * Over which rows the uint8 range (min, max) of an activation is taken before an int8 matrix multiply.
 * ONNX's DynamicQuantizeLinear takes one range over the whole tensor, i.e. over every token of every
 * sentence in the batch, padding included; then a sentence's embedding depends on its batch neighbours.
 */
public enum ActivationQuantization {
    /**
     * One range per sentence over its real (unmasked) tokens. Identical to ONNX Runtime run on that sentence
     * alone (batch 1, no padding), and independent of batching and padding. The default.
     */
    PER_SENTENCE,
    /** One range per token row: finer (usually a little more accurate), but not what ONNX Runtime computes. */
    PER_TOKEN,
    /** One range over the whole batch tensor, padding rows included: exactly the ONNX graph's semantics. */
    PER_BATCH
}
