package dev.offload.model;

/** y = (x - mean) / sqrt(var + epsilon) * gamma + beta over the hidden dimension. */
public record LayerNormWeights(float[] gamma, float[] beta, float epsilon) {}
