package dev.offload.ops.gemm;

import dev.offload.math.Erf;
import dev.offload.math.OnnxRuntimeCpu;

/**
 * Activation functions a dequantizing GEMM applies to its float output in the same kernel launch; also what the
 * graph's linear ops carry, so a graph's choice reaches the kernel unchanged.
 */
public enum Activation {
    NONE, RELU,
    /** GELU with the erf form: 0.5 x (1 + erf(x / sqrt 2)), erf as {@link Erf#erfFloat}. */
    GELU_ERF,
    /** GELU's tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    GELU_TANH,
    /** x * sigmoid(x). */
    SILU,
    /**
     * GELU with the exact erf form as an exported ONNX graph writes it (x / sqrt 2, Erf, + 1, * x, * 0.5), every step
     * rounded to float as ONNX Runtime's CPU provider rounds it, its erf included ({@link OnnxRuntimeCpu#gelu}): what
     * imported models use, so that their activations match ONNX Runtime bit for bit. Added last: spmm.cl selects
     * activations by ordinal.
     */
    GELU_ERF_ONNX;

    /** The reference value, in double (GELU_ERF_ONNX: in float, as ONNX Runtime computes it). */
    public double apply(double x) {
        return switch (this) {
            case NONE -> x;
            case RELU -> Math.max(x, 0.0);
            case GELU_ERF -> geluErf((float) x);
            case GELU_TANH -> 0.5 * x * (1.0 + Math.tanh(Math.sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x)));
            case SILU -> x / (1.0 + Math.exp(-x));
            case GELU_ERF_ONNX -> OnnxRuntimeCpu.gelu((float) x);
        };
    }

    /**
     * GELU with erf in float, in the ONNX graph's order (Div by sqrt 2, Erf, Add 1, Mul x, Mul 0.5) with offload's
     * erf ({@link Erf#erfFloat}): the same bits as the OpenCL epilogue, the layers kernel and the encoder reference.
     */
    public static float geluErf(float x) {
        return x * (Erf.erfFloat(x / 1.4142135f) + 1f) * 0.5f;
    }

    /** Approximate operations per element, for the profiler. */
    public int operations() {
        return switch (this) {
            case NONE -> 0;
            case RELU -> 1;
            case GELU_ERF, GELU_TANH -> 12;
            case SILU -> 6;
            case GELU_ERF_ONNX -> 40;
        };
    }

    /**
     * The kernel build define that selects it; the ONNX Runtime form also asks for a correctly rounded division
     * (its x / sqrt 2 must round as ONNX Runtime's Div does).
     */
    String define() { return "ACTIVATION_" + name() + (this == GELU_ERF_ONNX ? " -cl-fp32-correctly-rounded-divide-sqrt" : ""); }
}
