package dev.offload.model;

/**
 * A linear layer stored as two thinner int8 linears, y = (x·A)·B + b with A [inputs][rank] and B [rank][outputs]
 * (what {@code offload compress --method low-rank} makes: W ~ A·B by SVD). Each factor runs as the dynamic-quantized
 * model runs any int8 linear: the input is quantized to uint8, multiplied by A, scaled; that float result is
 * quantized again and multiplied by B, scaled, plus the bias. {@code first} carries no bias (zeros); the layer's bias
 * is {@code second}'s.
 */
public record FactorizedLinear(QuantizedLinear first, QuantizedLinear second) implements Linear {
    public FactorizedLinear {
        if (first.outputs() != second.inputs()) {
            throw new IllegalArgumentException("FactorizedLinear: the first factor has " + first.outputs() + " outputs, the second "
                    + second.inputs() + " inputs");
        }
        for (float b : first.bias()) {
            if (b != 0) throw new IllegalArgumentException("FactorizedLinear: the first factor must have no bias (the layer's bias is the second's)");
        }
    }

    /** The factors' inner width r. */
    public int rank() { return first.outputs(); }

    @Override public int inputs() { return first.inputs(); }

    @Override public int outputs() { return second.outputs(); }

    @Override public float[] bias() { return second.bias(); }
}
