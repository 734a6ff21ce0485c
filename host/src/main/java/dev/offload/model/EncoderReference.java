package dev.offload.model;

import dev.offload.math.OnnxRuntimeCpu;
import dev.offload.ops.attention.AttentionReference;
import dev.offload.ops.blockq.BlockLinearReference;
import dev.offload.ops.gemm.Activation;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.ops.layers.LayersReference;
import dev.offload.ops.quant.QuantizeReference;

/**
 * The encoder forward pass in plain Java, top to bottom: the judge every device runtime is compared with. Each op
 * is its family's one reference (dev.offload.ops: LayerNorm, attention and GELU in their ONNX Runtime variants,
 * quantize, int8 and float linear), composed as the imported graph composes them.
 * It computes what the ONNX graph computes (float ops in float, int8 linear layers as ONNX Runtime's
 * DynamicQuantizeLinear + MatMulInteger + scale + bias), rounding every float operation as ONNX Runtime's CPU
 * provider does ({@link OnnxRuntimeCpu}: its sums, softmax and erf), except that the uint8 range of an activation is
 * taken per sentence over its real tokens by default ({@link ActivationQuantization}), so padding and batch
 * neighbours do not change a sentence's result. Attention ignores padded keys.
 */
public final class EncoderReference {
    private EncoderReference() {}

    /** Sees what a forward pass computes inside a layer (calibration: dev.offload.compress's head importance). */
    @FunctionalInterface
    public interface LayerTap {
        /** Layer {@code layer}'s attention context, the output projection's input: [batch][length][attention width]. */
        void context(int layer, float[] context);
    }

    /** last_hidden_state [batch][length][hidden], row-major. Padded rows are computed too (they attend to real tokens). */
    public static float[] forward(EncoderModel model, TokenBatch in, ActivationQuantization quantization) {
        return forward(model, in, quantization, null);
    }

    /** {@link #forward(EncoderModel, TokenBatch, ActivationQuantization)}, showing {@code tap} (if not null) each layer's insides. */
    public static float[] forward(EncoderModel model, TokenBatch in, ActivationQuantization quantization, LayerTap tap) {
        EncoderConfig c = model.config();
        int rows = in.batch() * in.length(), h = c.hidden();

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

        for (int li = 0; li < model.layers().size(); li++) {
            EncoderLayer layer = model.layers().get(li);
            // Self-attention. Q, K and V read the same quantized input, as in the ONNX graph.
            QuantizedInput xq = QuantizedInput.of(x, h, in, quantization, layer.query());
            float[] q = linear(x, xq, layer.query(), in, quantization);
            float[] k = linear(x, xq, layer.key(), in, quantization);
            float[] v = linear(x, xq, layer.value(), in, quantization);
            float[] context = attention(q, k, v, in, c);
            if (tap != null) tap.context(li, context);
            float[] attn = linear(context, QuantizedInput.of(context, c.attentionWidth(), in, quantization, layer.attentionOutput()),
                    layer.attentionOutput(), in, quantization);
            for (int i = 0; i < attn.length; i++) attn[i] += x[i];
            x = layerNorm(attn, layer.attentionNorm(), h);

            // Feed-forward: linear, erf-GELU, linear; residual; LayerNorm.
            float[] f = linear(x, QuantizedInput.of(x, h, in, quantization, layer.intermediate()), layer.intermediate(), in, quantization);
            // A 4-bit layer's GELU is a node of its own in the graph (graph.Gelu, erf), not the int8 epilogue's ONNX form.
            if (layer.intermediate() instanceof BlockQuantizedLinear) f = LayersReference.gelu(f, false);
            else for (int i = 0; i < f.length; i++) f[i] = gelu(f[i]);
            float[] o = linear(f, QuantizedInput.of(f, c.intermediate(), in, quantization, layer.output()), layer.output(), in, quantization);
            for (int i = 0; i < o.length; i++) o[i] += x[i];
            x = layerNorm(o, layer.outputNorm(), h);
        }
        return x;
    }

    /** GELU as the graph writes it, with ONNX Runtime's erf (see {@link OnnxRuntimeCpu#gelu}). */
    static float gelu(float x) { return OnnxRuntimeCpu.gelu(x); }

    /** The graph's decomposed LayerNorm per row, rounded as ONNX Runtime rounds it ({@link LayersReference#layerNormOnnx}). */
    static float[] layerNorm(float[] x, LayerNormWeights w, int h) {
        return LayersReference.layerNormOnnx(x, h, w.gamma(), w.beta(), w.epsilon());
    }

    /**
     * Multi-head attention as the graph computes it per head, over the sentence's real keys only (ONNX Runtime runs
     * the sentence alone), with ONNX Runtime's rounding: {@link AttentionReference#onnxRuntime}.
     */
    static float[] attention(float[] q, float[] k, float[] v, TokenBatch in, EncoderConfig c) {
        return AttentionReference.onnxRuntime(c.heads(), c.heads(), c.headSize(), c.scoreDivisor(), q, k, v,
                realTokens(in), in.batch(), in.length(), in.length());
    }

    /** Each sentence's real tokens, which come first (right padding; a mask with a hole is refused). */
    static int[] realTokens(TokenBatch in) {
        int[] lengths = new int[in.batch()];
        for (int b = 0; b < in.batch(); b++) {
            lengths[b] = in.realTokens(b);
            for (int t = 0; t < in.length(); t++) {
                if ((in.mask()[b * in.length() + t] != 0) != (t < lengths[b])) {
                    throw new IllegalArgumentException("sentence " + b + "'s attention mask is not its real tokens followed by padding");
                }
            }
        }
        return lengths;
    }

    /**
     * y = x·W + b ({@link Int8GemmReference}). Float layers multiply in float; int8 layers use the uint8 input
     * {@code xq}: MatMulInteger, then x_scale * w_scale and the bias in float, as the graph does. A factorized layer
     * is its first factor on {@code xq}, that result quantized as any activation is, then its second factor. 4-bit
     * layers quantize x per block of 32 to int8 themselves (ggml's block_q8_0 rule, {@link QuantizeReference#perBlockInt8};
     * {@code xq} is not used) and are {@link BlockLinearReference}: W4A8, as the graph's BlockLinear computes it.
     */
    static float[] linear(float[] x, QuantizedInput xq, Linear layer, TokenBatch in, ActivationQuantization quantization) {
        int k = layer.inputs(), n = layer.outputs(), rows = in.batch() * in.length();
        return switch (layer) {
            case FactorizedLinear f -> {
                float[] inner = linear(x, xq, f.first(), in, quantization);
                yield linear(inner, QuantizedInput.of(inner, f.rank(), in, quantization), f.second(), in, quantization);
            }
            case FloatLinearWeights f -> Int8GemmReference.fp32Linear(x, f.weight(), f.bias(), Activation.NONE, rows, k, n);
            case QuantizedLinear ql -> {
                int[] acc = Int8GemmReference.accumulate(xq.values(), true, xq.zeroPoint(),
                        Int8GemmReference.widen(ql.weight(), ql.zeroPoint(), n), rows, k, n);
                yield Int8GemmReference.int8Linear(acc, rows, n, xq.scale(), ql.scale(), ql.bias(), Activation.NONE);
            }
            case BlockQuantizedLinear b -> {
                QuantizeReference.Quantized xb = QuantizeReference.perBlockInt8(x, rows, k);
                yield BlockLinearReference.linear(xb.data(), xb.scales(), rows, b.weight(), b.bias());
            }
        };
    }

    /** An activation quantized to uint8 with ONNX DynamicQuantizeLinear's rules ({@link QuantizeReference}), one (scale, zero point) per row. */
    record QuantizedInput(byte[] values, float[] scale, int[] zeroPoint) {
        /** The input of {@code reader} quantized, or null when it does not read a uint8 input (a float or 4-bit linear). */
        static QuantizedInput of(float[] x, int width, TokenBatch in, ActivationQuantization mode, Linear reader) {
            return reader instanceof QuantizedLinear || reader instanceof FactorizedLinear ? of(x, width, in, mode) : null;
        }

        static QuantizedInput of(float[] x, int width, TokenBatch in, ActivationQuantization mode) {
            int rows = x.length / width;
            QuantizeReference.Quantized q = switch (mode) {
                case PER_BATCH -> {
                    QuantizeReference.DynamicQuantized d = QuantizeReference.dynamicQuantizeLinear(x);
                    float[] scales = new float[rows];
                    int[] zps = new int[rows];
                    java.util.Arrays.fill(scales, d.scale());
                    java.util.Arrays.fill(zps, d.zeroPoint());
                    yield new QuantizeReference.Quantized(d.data(), scales, zps);
                }
                // A sentence's range covers its real tokens (a sentence with none: all its rows).
                case PER_SENTENCE -> QuantizeReference.perSentenceUint8(x, in.batch(), in.length(), width, realTokens(in));
                case PER_TOKEN -> {
                    int[] ones = new int[rows];
                    java.util.Arrays.fill(ones, 1);
                    yield QuantizeReference.perSentenceUint8(x, rows, 1, width, ones);
                }
            };
            return new QuantizedInput(q.data(), q.scales(), q.zeroPoints());
        }
    }
}
