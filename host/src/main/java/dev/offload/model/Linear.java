package dev.offload.model;

/** A layer y = x·W + b with W of shape [inputs][outputs]: float weights, int8 weights with scales, W as two int8 factors, or 4-bit blocks. */
public sealed interface Linear permits FloatLinearWeights, QuantizedLinear, FactorizedLinear, BlockQuantizedLinear {
    int inputs();

    int outputs();

    /** Length {@link #outputs()}; zeros when the model has no bias. */
    float[] bias();
}
