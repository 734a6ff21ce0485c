package dev.offload.model;

import dev.offload.math.OnnxRuntimeCpu;

import java.util.stream.IntStream;

/**
 * The encoder forward pass in plain Java, top to bottom: the judge every device runtime is compared with.
 * It computes what the ONNX graph computes (float ops in float, int8 linear layers as ONNX Runtime's
 * DynamicQuantizeLinear + MatMulInteger + scale + bias), rounding every float operation as ONNX Runtime's CPU
 * provider does ({@link OnnxRuntimeCpu}: its sums, softmax and erf), except that the uint8 range of an activation is
 * taken per sentence over its real tokens by default ({@link ActivationQuantization}), so padding and batch
 * neighbours do not change a sentence's result. Attention ignores padded keys.
 */
public final class EncoderReference {
    private EncoderReference() {}

    /** last_hidden_state [batch][length][hidden], row-major. Padded rows are computed too (they attend to real tokens). */
    public static float[] forward(EncoderModel model, TokenBatch in, ActivationQuantization quantization) {
        EncoderConfig c = model.config();
        int rows = in.batch() * in.length(), h = c.hidden();
        Rows layout = new Rows(in, quantization);

        // Embeddings: word + token type + position, then LayerNorm.
        Embeddings e = model.embeddings();
        float[] x = new float[rows * h];
        for (int r = 0; r < rows; r++) {
            int id = Math.toIntExact(in.ids()[r]), pos = r % in.length(), type = Math.toIntExact(in.typeIds()[r]);
            if (id < 0 || id >= c.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (c.vocabSize() - 1) + ")");
            if (pos >= c.maxPositions()) throw new IllegalArgumentException("sequence length " + in.length() + " exceeds the model's " + c.maxPositions() + " positions");
            for (int i = 0; i < h; i++) {
                float v = e.word()[id * h + i];
                if (e.tokenType() != null) v += e.tokenType()[type * h + i];
                x[r * h + i] = v + e.position()[pos * h + i];
            }
        }
        x = layerNorm(x, e.norm(), h);

        for (EncoderLayer layer : model.layers()) {
            // Self-attention. Q, K and V read the same quantized input, as in the ONNX graph.
            QuantizedInput xq = QuantizedInput.of(x, h, layout);
            float[] q = linear(x, xq, layer.query(), rows);
            float[] k = linear(x, xq, layer.key(), rows);
            float[] v = linear(x, xq, layer.value(), rows);
            float[] context = attention(q, k, v, in, c);
            float[] attn = linear(context, QuantizedInput.of(context, h, layout), layer.attentionOutput(), rows);
            for (int i = 0; i < attn.length; i++) attn[i] += x[i];
            x = layerNorm(attn, layer.attentionNorm(), h);

            // Feed-forward: linear, erf-GELU, linear; residual; LayerNorm.
            float[] f = linear(x, QuantizedInput.of(x, h, layout), layer.intermediate(), rows);
            for (int i = 0; i < f.length; i++) f[i] = gelu(f[i]);
            float[] o = linear(f, QuantizedInput.of(f, c.intermediate(), layout), layer.output(), rows);
            for (int i = 0; i < o.length; i++) o[i] += x[i];
            x = layerNorm(o, layer.outputNorm(), h);
        }
        return x;
    }

    /** GELU as the graph writes it, with ONNX Runtime's erf (see {@link OnnxRuntimeCpu#gelu}). */
    static float gelu(float x) { return OnnxRuntimeCpu.gelu(x); }

    /** The graph's decomposed LayerNorm per row, rounded as ONNX Runtime rounds it ({@link OnnxRuntimeCpu#layerNorm}). */
    static float[] layerNorm(float[] x, LayerNormWeights w, int h) {
        float[] out = new float[x.length];
        float[] scratch = new float[h];
        for (int r = 0; r < x.length / h; r++) OnnxRuntimeCpu.layerNorm(x, r * h, h, w.gamma(), w.beta(), w.epsilon(), out, r * h, scratch);
        return out;
    }

    /**
     * Multi-head attention as the graph computes it per head, over the sentence's real keys only (ONNX Runtime runs
     * the sentence alone): scores = (Q·Kᵀ) / divisor, softmax, · V, with ONNX Runtime's rounding: fused multiply-add
     * chains for both products, its softmax ({@link OnnxRuntimeCpu}).
     */
    static float[] attention(float[] q, float[] k, float[] v, TokenBatch in, EncoderConfig c) {
        int s = in.length(), h = c.hidden(), dh = c.headSize();
        float[] out = new float[q.length];
        IntStream.range(0, in.batch() * c.heads()).parallel().forEach(bh -> {
            int b = bh / c.heads(), head = bh % c.heads();
            int[] keys = IntStream.range(0, s).filter(j -> in.mask()[b * s + j] != 0).toArray();
            int n = keys.length;
            float[] p = new float[n];
            for (int i = 0; i < s; i++) {
                int qi = (b * s + i) * h + head * dh;
                if (n == 0) continue;   // no real key: the row stays zero
                for (int j = 0; j < n; j++) {
                    p[j] = OnnxRuntimeCpu.dot(q, qi, 1, k, (b * s + keys[j]) * h + head * dh, 1, dh) / c.scoreDivisor();
                }
                OnnxRuntimeCpu.softmax(p, 0, n);
                for (int d = 0; d < dh; d++) {
                    float acc = 0f;   // OnnxRuntimeCpu.dot over the real keys' rows of V
                    for (int j = 0; j < n; j++) acc = Math.fma(p[j], v[(b * s + keys[j]) * h + head * dh + d], acc);
                    out[qi + d] = acc;
                }
            }
        });
        return out;
    }

    /** y = x·W + b. Float layers multiply in float; int8 layers use the uint8 input {@code xq}. */
    static float[] linear(float[] x, QuantizedInput xq, Linear layer, int rows) {
        int kk = layer.inputs(), n = layer.outputs();
        float[] y = new float[rows * n];
        switch (layer) {
            case FloatLinearWeights f -> IntStream.range(0, rows).parallel().forEach(r -> {
                float[] acc = new float[n];
                for (int k = 0; k < kk; k++) {
                    float a = x[r * kk + k];
                    for (int j = 0; j < n; j++) acc[j] += a * f.weight()[k * n + j];
                }
                for (int j = 0; j < n; j++) y[r * n + j] = f.bias()[j] + acc[j];
            });
            case QuantizedLinear ql -> IntStream.range(0, rows).parallel().forEach(r -> {
                int[] acc = new int[n];
                int zero = xq.zeroPoint[r], aSum = 0;
                byte[] w = ql.weight();
                for (int k = 0; k < kk; k++) {
                    int a = Byte.toUnsignedInt(xq.values[r * kk + k]) - zero;
                    if (a == 0) continue;
                    aSum += a;
                    for (int j = 0; j < n; j++) acc[j] += a * w[k * n + j];
                }
                for (int j = 0; j < n; j++) {
                    int dot = acc[j] - ql.zeroPoint(j) * aSum;       // sum_k a_k * (w_kj - z_j)
                    float scale = xq.scale[r] * ql.scale()[j];          // x_scale * w_scale, as the graph multiplies
                    y[r * n + j] = ql.bias()[j] + (float) dot * scale;
                }
            });
        }
        return y;
    }

    /** Which rows share one quantization range. */
    record Rows(TokenBatch in, ActivationQuantization mode) {
        /** The group id of each row and whether it counts for its group's range. */
        int group(int r) {
            return switch (mode) {
                case PER_BATCH -> 0;
                case PER_SENTENCE -> r / in.length();
                case PER_TOKEN -> r;
            };
        }

        boolean counts(int r) {
            // A sentence's range covers its real tokens only (a sentence with none falls back to all its rows).
            return mode != ActivationQuantization.PER_SENTENCE || in.mask()[r] != 0 || in.realTokens(r / in.length()) == 0;
        }
    }

    /** An activation quantized to uint8 with ONNX DynamicQuantizeLinear's rules, one (scale, zero point) per row. */
    record QuantizedInput(byte[] values, float[] scale, int[] zeroPoint) {
        static QuantizedInput of(float[] x, int width, Rows layout) {
            int rows = x.length / width;
            int groups = 0;
            for (int r = 0; r < rows; r++) groups = Math.max(groups, layout.group(r) + 1);
            float[] min = new float[groups], max = new float[groups];  // both start at 0: the range always includes 0
            for (int r = 0; r < rows; r++) {
                if (!layout.counts(r)) continue;
                int g = layout.group(r);
                for (int i = 0; i < width; i++) {
                    min[g] = Math.min(min[g], x[r * width + i]);
                    max[g] = Math.max(max[g], x[r * width + i]);
                }
            }
            float[] gScale = new float[groups];
            int[] gZero = new int[groups];
            for (int g = 0; g < groups; g++) {
                gScale[g] = max[g] == min[g] ? 1f : (max[g] - min[g]) / 255f;
                gZero[g] = (int) Math.clamp(Math.rint(0f - min[g] / gScale[g]), 0, 255);
            }
            byte[] q = new byte[x.length];
            float[] scale = new float[rows];
            int[] zero = new int[rows];
            for (int r = 0; r < rows; r++) {
                int g = layout.group(r);
                scale[r] = gScale[g];
                zero[r] = gZero[g];
                for (int i = 0; i < width; i++) {
                    // Round half to even (Math.rint), then saturate to [0, 255].
                    q[r * width + i] = (byte) Math.clamp(Math.rint(x[r * width + i] / gScale[g]) + gZero[g], 0, 255);
                }
            }
            return new QuantizedInput(q, scale, zero);
        }
    }

    /** Sentence embeddings [batch][hidden]: pooled as the model card says, then L2-normalized. */
    public static float[] pool(float[] hidden, TokenBatch in, int h, Pooling pooling) {
        float[] out = new float[in.batch() * h];
        for (int b = 0; b < in.batch(); b++) {
            double[] acc = new double[h];
            if (pooling == Pooling.CLS) {
                for (int i = 0; i < h; i++) acc[i] = hidden[b * in.length() * h + i];
            } else {
                int n = 0;
                for (int s = 0; s < in.length(); s++) {
                    if (in.mask()[b * in.length() + s] == 0) continue;
                    n++;
                    for (int i = 0; i < h; i++) acc[i] += hidden[(b * in.length() + s) * h + i];
                }
                for (int i = 0; i < h; i++) acc[i] /= Math.max(n, 1);
            }
            double norm = 0;
            for (double a : acc) norm += a * a;
            norm = Math.max(Math.sqrt(norm), 1e-12);
            for (int i = 0; i < h; i++) out[b * h + i] = (float) (acc[i] / norm);
        }
        return out;
    }
}
