package dev.offload.model;

/** The weights of a float32 dense layer as a model file holds them: weight row-major [inputs][outputs], before quantization. */
public record FloatLinearWeights(int inputs, int outputs, float[] weight, float[] bias) implements Linear {
    public FloatLinearWeights {
        if (weight.length != inputs * outputs || bias.length != outputs) {
            throw new IllegalArgumentException("FloatLinearWeights " + inputs + "x" + outputs + ": weight has " + weight.length
                    + " values, bias " + bias.length);
        }
    }

    /**
     * Quantizes the weights per output column, symmetric int8 (zero point 0, scale = max|w| / 127), as ONNX
     * Runtime's dynamic quantizer does with per_channel=True; activations are then quantized at run time.
     */
    public QuantizedLinear quantizeInt8() {
        byte[] q = new byte[weight.length];
        float[] scale = new float[outputs];
        for (int n = 0; n < outputs; n++) {
            float max = 0;
            for (int k = 0; k < inputs; k++) max = Math.max(max, Math.abs(weight[k * outputs + n]));
            scale[n] = max == 0 ? 1f : max / 127f;
            for (int k = 0; k < inputs; k++) {
                q[k * outputs + n] = (byte) Math.clamp(Math.rint(weight[k * outputs + n] / scale[n]), -127, 127);
            }
        }
        return new QuantizedLinear(inputs, outputs, q, scale, null, bias);
    }
}
