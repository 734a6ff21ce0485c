package dev.offload.model;

/** A layer y = x·W + b with W of shape [inputs][outputs]: float weights, int8 weights with scales, or W as two int8 factors. */
public sealed interface Linear permits FloatLinearWeights, QuantizedLinear, FactorizedLinear {
    int inputs();

    int outputs();

    /** Length {@link #outputs()}; zeros when the model has no bias. */
    float[] bias();
}
