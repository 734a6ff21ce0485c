package dev.offload.model;

/**
 * Token, position and token-type embedding tables, row-major [rows][hidden], already dequantized when the
 * file stores them as uint8 (DequantizeLinear of a gathered row is exact in float, so dequantizing the
 * whole table at load gives the same numbers), and the LayerNorm applied to their sum.
 */
public record Embeddings(float[] word, float[] position, float[] tokenType, LayerNormWeights norm) {}
