package dev.offload.ops.gemm;

/**
 * The accepted error of the float (dequantizing) GEMM against {@link Int8GemmReference}, as
 * max_i |got - want| / max_i |want|.
 *
 * <p>Without an activation the kernel rounds four times in float (C to float, two products, the bias
 * add or its fused multiply-add), each at most half an ulp (6e-8) relative to max|y|: 1e-6 leaves room.
 * With an activation, OpenCL allows erf 16 ulp, tanh 5 ulp and exp 3 ulp in single precision, and GELU and
 * SiLU add a few more roundings: 1e-5 relative to max|y| covers them with margin, while any real kernel
 * bug (a wrong scale, a missing bias, a wrong tile) is off by far more.
 */
public final class GemmBounds {
    private GemmBounds() {}

    public static double dequantize(Activation activation) {
        return activation == Activation.NONE || activation == Activation.RELU ? 1e-6 : 1e-5;
    }
}
