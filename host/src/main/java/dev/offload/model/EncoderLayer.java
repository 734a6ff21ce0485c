package dev.offload.model;

/** One transformer encoder layer (post-LayerNorm, as BERT): self-attention, residual, norm; FFN, residual, norm. */
public record EncoderLayer(Linear query, Linear key, Linear value, Linear attentionOutput, LayerNormWeights attentionNorm,
                           Linear intermediate, Linear output, LayerNormWeights outputNorm) {}
