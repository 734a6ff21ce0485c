package dev.offload.model;

/** A dense layer y = x·W + b with W of shape [inputs][outputs]: float weights, or int8 weights with scales. */
public sealed interface Linear permits FloatLinearWeights, QuantizedLinear {
    int inputs();

    int outputs();

    /** Length {@link #outputs()}; zeros when the model has no bias. */
    float[] bias();
}
