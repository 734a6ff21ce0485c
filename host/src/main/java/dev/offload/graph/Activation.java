package dev.offload.graph;

/** The activation a linear layer applies to its output (its GEMM epilogue). */
public enum Activation {
    NONE, RELU,
    /** BERT's exact GELU: x * (1 + erf(x / sqrt 2)) / 2. */
    GELU_ERF,
    /** GPT-2's tanh approximation of GELU. */
    GELU_TANH,
    /** x * sigmoid(x) (Llama's SwiGLU gate, when fused). */
    SILU;

    /** Approximate operations per element, for the profiler. */
    public int operations() {
        return switch (this) {
            case NONE -> 0;
            case RELU -> 1;
            case GELU_ERF, GELU_TANH -> 12;
            case SILU -> 6;
        };
    }
}
