package dev.offload.model;

/** A dense layer y = x·W + b with W of shape [inputs][outputs]: float weights, int8 weights with scales, or 4-bit blocks. */
public sealed interface Linear permits FloatLinearWeights, QuantizedLinear, BlockQuantizedLinear {
    int inputs();

    int outputs();

    /** Length {@link #outputs()}; zeros when the model has no bias. */
    float[] bias();
}
