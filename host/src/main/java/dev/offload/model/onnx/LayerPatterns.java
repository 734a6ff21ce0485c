package dev.offload.model.onnx;

import dev.offload.model.Embeddings;
import dev.offload.model.FactorizedLinear;
import dev.offload.model.FloatLinearWeights;
import dev.offload.model.LayerNormWeights;
import dev.offload.model.Linear;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.UnsupportedModelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The structures a BERT-style encoder is built from, recognized node by node: LayerNorm (fused or decomposed),
 * linear layers (float, ONNX Runtime's dynamic int8 form, or two such int8 products in a row: a factorized one),
 * erf-GELU, multi-head attention with its padding mask, and the embedding sum. Each matcher takes the value a structure produces and returns what feeds it,
 * marking its nodes used; the weights it finds become model weights through {@link ImportedWeights}.
 */
final class LayerPatterns extends GraphMatcher {
    static final long PROBE_BATCH = 2, PROBE_TOKENS = 7;

    private final String inputIds, attentionMask, tokenTypeIds;

    LayerPatterns(OnnxModel model, ShapeFolder folder, String inputIds, String attentionMask, String tokenTypeIds) {
        super(model, folder);
        this.inputIds = inputIds;
        this.attentionMask = attentionMask;
        this.tokenTypeIds = tokenTypeIds;
    }

    record LayerNorm(String input, LayerNormWeights weights) {}

    /** LayerNormalization, or its decomposed form Add(Mul(Div(Sub(x, mean x), Sqrt(Add(mean (Sub)^2, eps))), gamma), beta). */
    LayerNorm layerNorm(String value) {
        OnnxNode fused = nodeOrNull(value, "LayerNormalization");
        if (fused != null) {
            long axis = fused.attrInt("axis", -1);
            if (axis != -1 && axis != folder.shape(fused.input(0)).length - 1) throw mismatch(fused, "only normalization over the last axis is supported");
            used.add(fused);
            float[] beta = fused.inputs().size() > 2 && !fused.input(2).isEmpty() ? constant(fused, 2).toFloats() : new float[constant(fused, 1).size()];
            return new LayerNorm(fused.input(0), new LayerNormWeights(constant(fused, 1).toFloats(), beta, fused.attrFloat("epsilon", 1e-5f)));
        }
        OnnxNode addBeta = node(value, "Add");
        int bSide = constantSide(addBeta);
        if (bSide < 0) throw mismatch(addBeta, "expected LayerNorm's '+ beta'");
        OnnxNode mulGamma = node(addBeta.input(1 - bSide), "Mul");
        int gSide = constantSide(mulGamma);
        if (gSide < 0) throw mismatch(mulGamma, "expected LayerNorm's '* gamma'");
        OnnxNode div = node(mulGamma.input(1 - gSide), "Div");
        OnnxNode sub = node(div.input(0), "Sub");
        OnnxNode mean = node(sub.input(1), "ReduceMean");
        if (!mean.input(0).equals(sub.input(0))) throw mismatch(mean, "LayerNorm mean is not of the normalized input");
        OnnxNode sqrt = node(div.input(1), "Sqrt");
        OnnxNode addEps = node(sqrt.input(0), "Add");
        int eSide = constantSide(addEps);
        if (eSide < 0) throw mismatch(addEps, "expected LayerNorm's '+ epsilon'");
        OnnxNode var = node(addEps.input(1 - eSide), "ReduceMean");
        OnnxNode pow = node(var.input(0), "Pow");
        expectScalar(pow, 2f, 0f);
        if (!pow.input(0).equals(sub.output())) throw mismatch(pow, "LayerNorm variance is not of the centered input");
        int rank = folder.shape(sub.input(0)).length;
        for (OnnxNode r : List.of(mean, var)) {
            long[] axes = r.attrInts("axes");
            if (axes == null || axes.length != 1 || (axes[0] != -1 && axes[0] != rank - 1) || r.attrInt("keepdims", 1) != 1) {
                throw mismatch(r, "LayerNorm must reduce over the last axis only, keeping dims");
            }
        }
        used.addAll(List.of(addBeta, mulGamma, div, sub, mean, sqrt, addEps, var, pow));
        float[] gamma = folder.value(mulGamma.input(gSide)).toFloats();
        float[] beta = folder.value(addBeta.input(bSide)).toFloats();
        return new LayerNorm(sub.input(0), new LayerNormWeights(gamma, beta, folder.value(addEps.input(eSide)).scalar()));
    }

    record MatchedLinear(String input, Linear linear) {}

    MatchedLinear linear(String value) {
        MatchedLinear l = linearOrNull(value);
        if (l == null) throw mismatch(producers.get(value), "expected a linear layer (MatMul + Add bias, or its dynamic int8 form)");
        return l;
    }

    /**
     * Float: Add(bias, MatMul(x, W)). Dynamic int8 (ONNX Runtime's quantizer):
     * Add(bias, Mul(Cast(MatMulInteger(xq, Wq, x_zero, w_zero)), Mul(x_scale, w_scale))) with
     * (xq, x_scale, x_zero) = DynamicQuantizeLinear(x). Factorized int8 ({@code offload compress --method low-rank}):
     * the same with x itself the bias-free int8 product of the layer input and a first factor A, i.e. two int8
     * products in a row, the second with the bias. 4-bit: com.microsoft MatMulNBits(x, B, scales) with its bias input
     * or an Add ({@link MatMulNBitsWeights}). Returns null when {@code value} is not such a structure.
     */
    MatchedLinear linearOrNull(String value) {
        OnnxNode add = nodeOrNull(value, "Add");
        float[] bias = null;
        String product = value;
        if (add != null) {
            int b = constantSide(add);
            if (b < 0 || folder.value(add.input(b)).rank() != 1) return null;
            bias = folder.value(add.input(b)).toFloats();
            product = add.input(1 - b);
        }
        OnnxNode nbits = nodeOrNull(product, "MatMulNBits");
        if (nbits != null) {
            float[] own = nbits.inputs().size() > 5 && !nbits.input(5).isEmpty() ? constant(nbits, 5).toFloats() : null;
            if (own != null && bias != null) throw mismatch(add, "a MatMulNBits with a bias input, then a second bias");
            var w = MatMulNBitsWeights.read(nbits, constant(nbits, 1), constant(nbits, 2), own != null ? own : bias, this);
            markUsed(add, nbits);
            return new MatchedLinear(nbits.input(0), w);
        }
        OnnxNode matmul = nodeOrNull(product, "MatMul");
        if (matmul != null) {
            OnnxTensor w = folder.value(matmul.input(1));
            if (w == null || w.rank() != 2 || w.floats() == null) return null;
            int k = w.dim(0), n = w.dim(1);
            if (bias == null) bias = new float[n];
            if (bias.length != n) return null;
            markUsed(add, matmul);
            return new MatchedLinear(matmul.input(0), new FloatLinearWeights(k, n, w.floats(), bias)); // the tensor's array: no copy
        }
        Int8Product second = int8ProductOrNull(product, bias);
        if (second == null) return null;
        markUsed(add);
        // The second factor of a factorized layer reads the first's float output, an int8 product with no bias.
        Int8Product first = nodeOrNull(second.input(), "Mul") != null ? int8ProductOrNull(second.input(), null) : null;
        if (first != null) return new MatchedLinear(first.input(), new FactorizedLinear(first.linear(), second.linear()));
        return new MatchedLinear(second.input(), second.linear());
    }

    private record Int8Product(String input, QuantizedLinear linear) {}

    /**
     * Mul(Cast(MatMulInteger(xq, Wq, x_zero, w_zero)), Mul(x_scale, w_scale)) with (xq, x_scale, x_zero) =
     * DynamicQuantizeLinear(x), marked used; {@code bias} null is a product with no Add after it (zeros). Returns null
     * when {@code product} is not such a structure or the bias does not fit it.
     */
    private Int8Product int8ProductOrNull(String product, float[] bias) {
        OnnxNode scaleMul = nodeOrNull(product, "Mul");
        if (scaleMul == null) return null;
        for (int side = 0; side < 2; side++) {
            OnnxNode cast = nodeOrNull(scaleMul.input(side), "Cast");
            OnnxNode scales = nodeOrNull(scaleMul.input(1 - side), "Mul");
            if (cast == null || scales == null) continue;
            OnnxNode mmi = nodeOrNull(cast.input(0), "MatMulInteger");
            if (mmi == null) continue;
            OnnxNode dql = nodeOrNull(mmi.input(0), "DynamicQuantizeLinear");
            if (dql == null) throw mismatch(mmi, "MatMulInteger's A input must come from DynamicQuantizeLinear");
            if (!mmi.input(2).equals(dql.outputs().get(2))) throw mismatch(mmi, "A's zero point is not DynamicQuantizeLinear's");
            if (cast.attrInt("to", 0) != OnnxType.FLOAT.code) throw mismatch(cast, "expected a cast to float");
            int ws = constantSide(scales);
            if (ws < 0 || !scales.input(1 - ws).equals(dql.outputs().get(1))) throw mismatch(scales, "expected x_scale * w_scale");
            OnnxTensor w = constant(mmi, 1);
            if (w.rank() != 2) throw mismatch(mmi, "B must be a 2-D weight");
            if (w.type() != OnnxType.INT8 && w.type() != OnnxType.UINT8) throw mismatch(mmi, "B must be int8 or uint8, is " + w.type());
            int n = w.dim(1);
            float[] wScale = folder.value(scales.input(ws)).toFloats();
            if (wScale.length != 1 && wScale.length != n) {
                throw mismatch(scales, "weight scale must be per tensor or per column, has " + wScale.length + " values for " + n + " columns");
            }
            long[] wZero = mmi.inputs().size() > 3 && !mmi.input(3).isEmpty() ? constant(mmi, 3).toLongs() : new long[] {0};
            if (wZero.length != 1 && wZero.length != n) throw mismatch(mmi, "B's zero point must be per tensor or per column");
            float[] b = bias == null ? new float[n] : bias;
            if (b.length != n) return null;
            markUsed(scaleMul, cast, scales, mmi, dql);
            return new Int8Product(dql.input(0), ImportedWeights.quantizedLinear(w, wScale, wZero, b));
        }
        return null;
    }

    boolean isGelu(String value) {
        try {
            Set<OnnxNode> before = new HashSet<>(used);
            gelu(value);
            used.retainAll(before);  // a probe: the caller matches again for real
            return true;
        } catch (UnsupportedModelException e) {
            return false;
        }
    }

    /** Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5) in any operand order; returns x. */
    String gelu(String value) {
        OnnxNode half = node(value, "Mul");
        OnnxNode mul, add, erf, div;
        int hc = constantSide(half);
        if (hc >= 0) {
            expectScalar(half, 0.5f, 1e-7f);
            mul = node(half.input(1 - hc), "Mul");
        } else {
            throw mismatch(half, "expected GELU's '* 0.5'");
        }
        int addSide = nodeOrNull(mul.input(1), "Add") != null ? 1 : 0;
        add = node(mul.input(addSide), "Add");
        String x = mul.input(1 - addSide);
        expectScalar(add, 1f, 0f);
        erf = node(add.input(1 - constantSide(add)), "Erf");
        div = nodeOrNull(erf.input(0), "Div");
        if (div != null) {
            expectScalar(div, (float) Math.sqrt(2), 1e-6f);
        } else {
            div = node(erf.input(0), "Mul");
            expectScalar(div, (float) (1 / Math.sqrt(2)), 1e-6f);
        }
        if (!div.input(0).equals(x) && !div.input(1).equals(x)) throw mismatch(div, "GELU's erf argument is not x / sqrt(2)");
        markUsed(half, mul, add, erf, div);
        return x;
    }

    record Attention(Linear q, Linear k, Linear v, int heads, int headSize, float divisor) {}

    /**
     * context = Reshape(Transpose(MatMul(Softmax(Add(Div(MatMul(Qh, Kh), d), mask)), Vh), [0,2,1,3]), [B,S,H]) with
     * Qh = Transpose(Reshape(q, [B,S,heads,dh]), [0,2,1,3]), Kh the same with [0,2,3,1], Vh as Qh, and q, k, v
     * linear layers of {@code layerIn}.
     */
    Attention attention(String context, String layerIn) {
        OnnxNode merge = node(context, "Reshape");
        long[] bsh = folder.shape(context);
        OnnxNode tOut = node(merge.input(0), "Transpose");
        expectPerm(tOut, 0, 2, 1, 3);
        OnnxNode pv = node(tOut.input(0), "MatMul");
        OnnxNode softmax = node(pv.input(0), "Softmax");
        long[] sShape = folder.shape(softmax.output());
        if (axisOf(softmax.attrInt("axis", -1), sShape.length) != sShape.length - 1) throw mismatch(softmax, "softmax must run over the last axis");
        OnnxNode maskAdd = node(softmax.input(0), "Add");
        int maskSide = isMask(maskAdd.input(1)) ? 1 : isMask(maskAdd.input(0)) ? 0 : -1;
        if (maskSide < 0) throw mismatch(maskAdd, "expected the attention-mask bias (1 - mask) * large negative");
        OnnxNode scale = producers.get(maskAdd.input(1 - maskSide));
        float divisor;
        if (scale != null && scale.opType().equals("Div") && folder.isConstant(scale.input(1))) {
            divisor = folder.value(scale.input(1)).scalar();
        } else if (scale != null && scale.opType().equals("Mul") && constantSide(scale) >= 0) {
            divisor = 1f / folder.value(scale.input(constantSide(scale))).scalar();
        } else {
            throw mismatch(scale, "expected attention scores scaled by a constant");
        }
        OnnxNode qk = node(scale.input(constantSide(scale) == 0 ? 1 : 0), "MatMul");
        OnnxNode tq = node(qk.input(0), "Transpose");
        OnnxNode tk = node(qk.input(1), "Transpose");
        OnnxNode tv = node(pv.input(1), "Transpose");
        expectPerm(tq, 0, 2, 1, 3);
        expectPerm(tk, 0, 2, 3, 1);
        expectPerm(tv, 0, 2, 1, 3);
        int heads = -1, headSize = -1;
        Linear[] qkv = new Linear[3];
        OnnxNode[] ts = {tq, tk, tv};
        for (int i = 0; i < 3; i++) {
            OnnxNode split = node(ts[i].input(0), "Reshape");
            long[] in = folder.shape(split.input(0)), out = folder.shape(split.output());
            if (in.length != 3 || out.length != 4 || out[0] != in[0] || out[1] != in[1] || out[2] * out[3] != in[2]) {
                throw mismatch(split, "expected a split of [B,S,H] into [B,S,heads,head_size], got " + Arrays.toString(in) + " -> " + Arrays.toString(out));
            }
            if (heads >= 0 && (heads != out[2] || headSize != out[3])) throw mismatch(split, "Q, K, V have different head counts or sizes");
            heads = (int) out[2];
            headSize = (int) out[3];
            MatchedLinear l = linear(split.input(0));
            if (!l.input.equals(layerIn)) throw mismatch(split, "Q/K/V do not read the layer input");
            qkv[i] = l.linear;
            used.add(split);
        }
        if (!Arrays.equals(bsh, new long[] {PROBE_BATCH, PROBE_TOKENS, qkv[0].outputs()})) {
            throw mismatch(merge, "expected heads merged back to [B,S,H], got " + Arrays.toString(bsh));
        }
        markUsed(merge, tOut, pv, softmax, maskAdd, scale, qk, tq, tk, tv);
        return new Attention(qkv[0], qkv[1], qkv[2], heads, headSize, divisor);
    }

    private static int axisOf(long a, int rank) { return (int) (a < 0 ? a + rank : a); }

    private void expectPerm(OnnxNode t, long... perm) {
        if (!Arrays.equals(t.attrInts("perm"), perm)) throw mismatch(t, "expected perm " + Arrays.toString(perm) + ", got " + Arrays.toString(t.attrInts("perm")));
    }

    /** Mul(Sub(1, Cast(Unsqueeze(Unsqueeze(attention_mask)))), c) with c <= -1e4: a key-padding mask [B,1,1,S]. */
    private boolean isMask(String value) {
        OnnxNode mul = nodeOrNull(value, "Mul");
        if (mul == null || constantSide(mul) < 0) return false;
        if (folder.value(mul.input(constantSide(mul))).scalar() > -1e4f) return false;
        OnnxNode sub = nodeOrNull(mul.input(1 - constantSide(mul)), "Sub");
        if (sub == null || constantSide(sub) != 0 || folder.value(sub.input(0)).scalar() != 1f) return false;
        String v = sub.input(1);
        List<OnnxNode> chain = new ArrayList<>(List.of(mul, sub));
        while (!v.equals(attentionMask)) {
            OnnxNode p = producers.get(v);
            if (p == null || !Set.of("Cast", "Unsqueeze").contains(p.opType())) return false;
            chain.add(p);
            v = p.input(0);
        }
        long[] s = folder.shape(value);
        if (!Arrays.equals(s, new long[] {PROBE_BATCH, 1, 1, PROBE_TOKENS})) return false;
        used.addAll(chain);
        return true;
    }

    /** LayerNorm(Add(Add(word[input_ids], token_type[token_type_ids]), position[0..S-1])) in any order. */
    Embeddings embeddings(LayerNorm ln) {
        float[] word = null, position = null, type = null;
        List<String> terms = new ArrayList<>();
        collectSum(ln.input, terms);
        for (String t : terms) {
            OnnxNode deq = nodeOrNull(t, "DequantizeLinear");
            OnnxNode gather = node(deq != null ? deq.input(0) : t, "Gather");
            if (gather.attrInt("axis", 0) != 0) throw mismatch(gather, "embedding lookup must gather rows");
            OnnxTensor table = constant(gather, 0);
            float[] rows = deq == null ? table.toFloats() : dequantize(deq, table);
            if (table.rank() != 2) throw mismatch(gather, "embedding table must be 2-D");
            String idx = gather.input(1);
            if (idx.equals(inputIds)) word = rows;
            else if (idx.equals(tokenTypeIds)) type = rows;
            else if (isPositionIds(idx)) position = rows;
            else throw mismatch(gather, "embedding indices are neither input_ids, token_type_ids nor positions 0..S-1");
            markUsed(deq, gather);
        }
        if (word == null || position == null) throw mismatch(producers.get(ln.input), "expected word and position embeddings");
        return new Embeddings(word, position, type, ln.weights);
    }

    /** Flattens a tree of Adds of non-constant values into its terms. */
    private void collectSum(String value, List<String> terms) {
        OnnxNode add = nodeOrNull(value, "Add");
        if (add != null && constantSide(add) < 0) {
            used.add(add);
            collectSum(add.input(0), terms);
            collectSum(add.input(1), terms);
        } else {
            terms.add(value);
        }
    }

    private float[] dequantize(OnnxNode deq, OnnxTensor table) {
        OnnxTensor scale = constant(deq, 1);
        long zero = deq.inputs().size() > 2 && !deq.input(2).isEmpty() ? constant(deq, 2).toLongs()[0] : 0;
        if (!scale.isScalarLike()) throw mismatch(deq, "only per-tensor dequantization of embedding tables is supported");
        if (table.bytes() == null) throw mismatch(deq, "expected an 8-bit table");
        return ImportedWeights.dequantize(table, scale.scalar(), zero);
    }

    private boolean isPositionIds(String value) {
        OnnxTensor t = folder.value(value);
        if (t == null || t.longs() == null || t.size() != PROBE_TOKENS) return false;
        for (int i = 0; i < t.size(); i++) if (t.longs()[i] != i) return false;
        return true;
    }
}
