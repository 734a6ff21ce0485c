package dev.offload.ops.layers;

import dev.offload.math.OnnxRuntimeCpu;
import dev.offload.math.ParallelRows;
import dev.offload.graph.RotaryEmbedding;
import dev.offload.ops.gemm.Activation;

/**
 * Plain-Java reference of the element-wise, normalization, embedding and pooling ops (the ops of
 * {@code layers.cl}): the judge of {@link LayersOpenCl}, the java device's implementation ({@link LayersJava}) and
 * the encoder reference's. Sums are taken in double, so this is the more accurate side of every comparison, except
 * in the ONNX Runtime variants ({@link #layerNormOnnx}), which round as ONNX Runtime does.
 */
public final class LayersReference {
    private LayersReference() {}

    public static float[] layerNorm(float[] x, int cols, float[] gamma, float[] beta, float eps) {
        int rows = x.length / cols;
        float[] y = new float[x.length];
        ParallelRows.of(rows, cols).forEach(r -> {
            int o = r * cols;
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += x[o + c];
            double mean = sum / cols;
            double var = 0;
            for (int c = 0; c < cols; c++) { double d = x[o + c] - mean; var += d * d; }
            double inv = 1.0 / Math.sqrt(var / cols + eps);
            for (int c = 0; c < cols; c++) {
                y[o + c] = (float) ((x[o + c] - mean) * inv * gamma[c] + (beta == null ? 0 : beta[c]));
            }
        });
        return y;
    }

    /** LayerNorm rounded as ONNX Runtime rounds an exported graph's decomposed form ({@link OnnxRuntimeCpu#layerNorm}). */
    public static float[] layerNormOnnx(float[] x, int cols, float[] gamma, float[] beta, float eps) {
        int rows = x.length / cols;
        float[] y = new float[x.length];
        ParallelRows.of(rows, cols).forEach(r -> OnnxRuntimeCpu.layerNorm(x, r * cols, cols, gamma, beta, eps, y, r * cols, new float[cols]));
        return y;
    }

    public static float[] rmsNorm(float[] x, int cols, float[] gamma, float eps) {
        int rows = x.length / cols;
        float[] y = new float[x.length];
        ParallelRows.of(rows, cols).forEach(r -> {
            int o = r * cols;
            double ss = 0;
            for (int c = 0; c < cols; c++) ss += (double) x[o + c] * x[o + c];
            double inv = 1.0 / Math.sqrt(ss / cols + eps);
            for (int c = 0; c < cols; c++) y[o + c] = (float) (x[o + c] * inv * gamma[c]);
        });
        return y;
    }

    public static float[] add(float[] a, float[] b) {
        float[] y = new float[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    public static float[] siluGate(float[] a, float[] b) {
        float[] y = new float[a.length];
        for (int i = 0; i < a.length; i++) y[i] = (float) (a[i] / (1.0 + Math.exp(-a[i])) * b[i]);
        return y;
    }

    /** GeGLU's product: GELU's tanh form of a, rounded to float, times b (in float, as llama.cpp's graph multiplies them). */
    public static float[] geluGate(float[] a, float[] b) {
        float[] y = new float[a.length];
        for (int i = 0; i < a.length; i++) y[i] = (float) Activation.GELU_TANH.apply(a[i]) * b[i];
        return y;
    }

    public static float[] gelu(float[] x, boolean tanh) {
        float[] y = new float[x.length];
        Activation a = tanh ? Activation.GELU_TANH : Activation.GELU_ERF;
        for (int i = 0; i < x.length; i++) y[i] = (float) a.apply(x[i]);
        return y;
    }

    /** Token or position embedding of ids [B, S] into [B, S, dim]. */
    public static float[] embedding(int[] ids, int seq, int dim, float[] table, byte[] int8Table, float[] rowScales,
                                    boolean byPosition, int positionOffset) {
        float[] y = new float[ids.length * dim];
        for (int t = 0; t < ids.length; t++) {
            int row = byPosition ? positionOffset + t % seq : ids[t];
            for (int c = 0; c < dim; c++) {
                y[t * dim + c] = table != null ? table[row * dim + c] : int8Table[row * dim + c] * rowScales[row];
            }
        }
        return y;
    }

    /** Mean over the first lengths[b] (or all) of S tokens: x [B, S, H] -> [B, H]. */
    public static float[] meanPool(float[] x, int batch, int seq, int hidden, int[] lengths) {
        float[] y = new float[batch * hidden];
        for (int b = 0; b < batch; b++) {
            int len = lengths == null ? seq : Math.min(Math.max(lengths[b], 0), seq);
            for (int h = 0; h < hidden; h++) {
                double s = 0;
                for (int t = 0; t < len; t++) s += x[(b * seq + t) * hidden + h];
                y[b * hidden + h] = len == 0 ? 0 : (float) (s / len);
            }
        }
        return y;
    }

    /**
     * RoPE of x [tokens][rope.heads() * headDim] at {@code positions} [tokens] ({@link RotaryEmbedding}): per pair
     * (a, b) and its table entry (c, s), a' = a*c - b*s and b' = a*s + b*c, each product and sum rounded to float (the
     * kernel's exact arithmetic). A position outside the tables gives NaN for that token.
     */
    public static float[] rope(float[] x, int[] positions, RotaryEmbedding rope) {
        int d = rope.headDim(), half = d / 2, width = rope.heads() * d;
        if ((long) positions.length * width != x.length) {
            throw new IllegalArgumentException("rope: " + x.length + " values are not " + positions.length + " tokens x " + width);
        }
        boolean pairs = rope.style() == RotaryEmbedding.Style.ADJACENT_PAIRS;
        float[] y = new float[x.length];
        for (int t = 0; t < positions.length; t++) {
            int p = positions[t];
            boolean inside = p >= 0 && p < rope.positions();
            for (int h = 0; h < rope.heads(); h++) {
                int o = t * width + h * d;
                for (int i = 0; i < half; i++) {
                    int a = pairs ? o + 2 * i : o + i, b = pairs ? o + 2 * i + 1 : o + i + half;
                    float c = inside ? rope.cos()[p * half + i] : Float.NaN, s = inside ? rope.sin()[p * half + i] : Float.NaN;
                    float x0 = x[a], x1 = x[b];
                    float p00 = x0 * c, p11 = x1 * s, p01 = x0 * s, p10 = x1 * c;
                    y[a] = p00 - p11;
                    y[b] = p01 + p10;
                }
            }
        }
        return y;
    }

    /** x [batch][seq][cols] → the last token's rows [batch][1][cols]. */
    public static float[] lastToken(float[] x, int batch, int seq, int cols) {
        float[] y = new float[batch * cols];
        for (int b = 0; b < batch; b++) System.arraycopy(x, ((b + 1) * seq - 1) * cols, y, b * cols, cols);
        return y;
    }
}
