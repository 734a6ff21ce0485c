package dev.offload.model;

/**
 * An int8 dense layer as ONNX Runtime's dynamic quantization stores it: weight row-major [inputs][outputs]
 * int8, a scale per output column (a per-tensor scale is repeated), a zero point per output column or null
 * when all are 0, and a float bias. Real value of a weight: (weight[k][n] - zeroPoint[n]) * scale[n].
 * The input is quantized at run time to uint8 (see {@link ActivationQuantization}); then
 * y[m][n] = x_scale * scale[n] * sum_k (xq[m][k] - x_zero) * (weight[k][n] - zeroPoint[n]) + bias[n].
 */
public record QuantizedLinear(int inputs, int outputs, byte[] weight, float[] scale, int[] zeroPoint, float[] bias)
        implements Linear {
    public QuantizedLinear {
        if (weight.length != inputs * outputs || scale.length != outputs || bias.length != outputs
                || zeroPoint != null && zeroPoint.length != outputs) {
            throw new IllegalArgumentException("QuantizedLinear " + inputs + "x" + outputs + ": inconsistent array sizes");
        }
    }

    public int zeroPoint(int n) { return zeroPoint == null ? 0 : zeroPoint[n]; }
}
