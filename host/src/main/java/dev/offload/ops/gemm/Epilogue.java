package dev.offload.ops.gemm;

import dev.offload.ops.quant.QuantType;

/**
 * What the GEMM does with each int32 result before storing it. Fused into the GEMM kernel (selected by
 * build defines), so the int32 matrix never goes to memory when a float or int8 output is wanted.
 */
public sealed interface Epilogue {
    /** Store C as int32 (ONNX MatMulInteger). */
    Int32 INT32 = new Int32();

    /** The build defines that select this epilogue in int8_gemm.cl. */
    String defines();

    /** Checks the parameter lengths against the output shape. */
    default void check(int rows, int cols) {}

    record Int32() implements Epilogue {
        @Override public String defines() { return "-D EPILOGUE_INT32"; }
    }

    /**
     * y[m,n] = activation(C[m,n] * activationScale[m] * weightScale[n] + bias[n]), float32.
     *
     * @param activationScale one value (per tensor) or one per row of A
     * @param weightScale     one value (per tensor) or one per column of B
     * @param bias            null, or one per column
     */
    record Dequantize(float[] activationScale, float[] weightScale, float[] bias, Activation activation)
            implements Epilogue {
        public Dequantize {
            if (activation == null) activation = Activation.NONE;
        }

        @Override public String defines() {
            // GELU-erf divides by sqrt 2 as the ONNX graph does: the division must be IEEE on every device.
            return "-D EPILOGUE_DEQUANTIZE -D " + activation.define() + (bias != null ? " -D HAS_BIAS" : "")
                    + (activation == Activation.GELU_ERF ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
        }

        @Override public void check(int rows, int cols) {
            requireLength("activation scale", activationScale, rows, "rows");
            requireLength("weight scale", weightScale, cols, "columns");
            if (bias != null && bias.length != cols) {
                throw new IllegalArgumentException("bias has " + bias.length + " values, the output has " + cols + " columns");
            }
        }
    }

    /**
     * q[m,n] = saturate(round_half_even((float) C[m,n] * scale[n]) + zeroPoint), as ONNX QLinearMatMul
     * with scale = a_scale * b_scale / y_scale computed by the caller in float.
     *
     * @param scale one value, or one per column (per-column weight scales)
     */
    record Requantize(float[] scale, int zeroPoint, QuantType type) implements Epilogue {
        public static Requantize of(float scale, int zeroPoint, QuantType type) {
            return new Requantize(new float[] {scale}, zeroPoint, type);
        }

        @Override public String defines() { return "-D EPILOGUE_REQUANTIZE"; }

        @Override public void check(int rows, int cols) {
            requireLength("requantize scale", scale, cols, "columns");
            if (zeroPoint < type.min() || zeroPoint > type.max()) {
                throw new IllegalArgumentException("output zero point " + zeroPoint + " is outside " + type + " range");
            }
        }
    }

    private static void requireLength(String what, float[] v, int n, String unit) {
        if (v == null || (v.length != 1 && v.length != n)) {
            throw new IllegalArgumentException(what + " must have 1 value or " + n + " (one per " + unit.replaceAll("s$", "")
                    + "), got " + (v == null ? "none" : v.length));
        }
    }

    /** {@code v} as an array of {@code n} values: a single value repeated, or v itself. */
    static float[] expand(float[] v, int n) {
        if (v.length == n) return v;
        float[] out = new float[n];
        java.util.Arrays.fill(out, v[0]);
        return out;
    }
}
