package dev.offload.model.onnx;

import dev.offload.model.Embeddings;
import dev.offload.model.EncoderConfig;
import dev.offload.model.EncoderLayer;
import dev.offload.model.EncoderModel;
import dev.offload.model.FloatLinearWeights;
import dev.offload.model.LayerNormWeights;
import dev.offload.model.Linear;
import dev.offload.model.QuantizedLinear;
import dev.offload.model.UnsupportedModelException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the ONNX graph of a BERT-style encoder (float, or int8 from ONNX Runtime's dynamic quantization) into
 * an {@link EncoderModel}. It works backwards from the graph output: LayerNorm, residual Add, FFN (linear,
 * erf-GELU, linear), LayerNorm, residual Add, attention output linear, attention (reshape to heads,
 * Q·Kᵀ, scale, mask, softmax, ·V), down to the embedding sum. Shapes and shape subgraphs are evaluated for a
 * probe input (batch 2, 7 tokens) by {@link ShapeFolder}, so the matcher checks what a Reshape really does.
 * Every node of the graph must be part of the recognized structure or folded away; anything else is an
 * {@link UnsupportedModelException} naming the node, never a silently different computation.
 */
public final class EncoderImporter {
    private static final long PROBE_BATCH = 2, PROBE_TOKENS = 7;

    private final OnnxModel model;
    private final ShapeFolder folder;
    private final Map<String, OnnxNode> producers = new HashMap<>();
    private final Set<OnnxNode> used = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private final String inputIds, attentionMask, tokenTypeIds;

    private EncoderImporter(OnnxModel model) {
        this.model = model;
        Map<String, String> roles = new HashMap<>();
        for (var in : model.inputs()) roles.put(in.name(), in.name());
        inputIds = requireInput(roles, "input_ids");
        attentionMask = requireInput(roles, "attention_mask");
        tokenTypeIds = roles.get("token_type_ids");
        Map<String, long[]> probe = new HashMap<>();
        for (var in : model.inputs()) probe.put(in.name(), new long[] {PROBE_BATCH, PROBE_TOKENS});
        for (OnnxNode n : model.nodes()) for (String o : n.outputs()) producers.put(o, n);
        checkOperators();
        folder = new ShapeFolder(model, probe);
        used.addAll(folder.foldedNodes());
    }

    private String requireInput(Map<String, String> roles, String name) {
        String v = roles.get(name);
        if (v == null) {
            throw new UnsupportedModelException(model.source() + ": expected a graph input named '" + name
                    + "' (a BERT-style encoder takes input_ids, attention_mask and optionally token_type_ids); inputs are "
                    + model.inputs().stream().map(OnnxModel.ValueInfo::name).toList());
        }
        return v;
    }

    public static EncoderModel importBytes(byte[] onnx, String source) {
        try {
            return importModel(OnnxModel.parse(new ByteArrayInputStream(onnx), source));
        } catch (IOException e) {
            throw new UncheckedIOException(source, e);
        }
    }

    public static EncoderModel importModel(OnnxModel model) {
        return new EncoderImporter(model).run();
    }

    private static final Set<String> OPS = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "ReduceMean",
            "Softmax", "MatMul", "MatMulInteger", "DynamicQuantizeLinear", "DequantizeLinear", "Cast", "Shape", "Gather",
            "Unsqueeze", "Concat", "Slice", "Reshape", "Transpose", "LayerNormalization", "Identity");

    private void checkOperators() {
        for (var e : model.opsets().entrySet()) {
            if (!e.getKey().equals("ai.onnx") && !e.getKey().equals("com.microsoft")) {
                throw new UnsupportedModelException(model.source() + ": operator set domain '" + e.getKey() + "' is not supported");
            }
        }
        for (OnnxNode n : model.nodes()) {
            if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx") || !OPS.contains(n.opType())) {
                throw new UnsupportedModelException(model.source() + ": operator " + n.opType()
                        + (n.domain().isEmpty() ? "" : " (domain " + n.domain() + ")") + " in node '" + n.name()
                        + "' (opset " + model.opset() + ") is not supported; offload imports BERT-style encoders built from "
                        + new java.util.TreeSet<>(OPS) + " (export without graph optimizations/fusions)");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // The walk: from the output down to the embeddings.

    private EncoderModel run() {
        if (model.outputs().isEmpty()) throw new UnsupportedModelException(model.source() + ": the graph has no output");
        String out = model.outputs().getFirst().name();
        List<EncoderLayer> layers = new ArrayList<>();
        int[] heads = {0};
        float[] divisor = {0};
        String h = out;
        while (true) {
            LayerNorm ln2 = layerNorm(h);
            OnnxNode residualAdd = node(ln2.input, "Add");
            // One side of the residual Add is the FFN's output linear, the other the attention block's output.
            MatchedLinear ffnOut = null;
            String attnNormOut = null;
            for (int side = 0; side < 2 && ffnOut == null; side++) {
                MatchedLinear l = linearOrNull(residualAdd.input(side));
                if (l != null && isGelu(l.input)) { ffnOut = l; attnNormOut = residualAdd.input(1 - side); }
            }
            if (ffnOut == null) {
                // No FFN above: this LayerNorm is the embeddings' one.
                Embeddings emb = embeddings(ln2);
                Collections.reverse(layers);
                return finish(emb, layers, heads[0], divisor[0]);
            }
            used.add(residualAdd);
            String geluIn = gelu(ffnOut.input);
            MatchedLinear ffnIn = linear(geluIn);
            LayerNorm ln1 = layerNorm(attnNormOut);
            if (!ffnIn.input.equals(attnNormOut)) throw mismatch(producers.get(geluIn), "the FFN does not read the attention block's LayerNorm output");
            OnnxNode attnAdd = node(ln1.input, "Add");
            used.add(attnAdd);
            MatchedLinear attnOut = null;
            String layerIn = null;
            for (int side = 0; side < 2 && attnOut == null; side++) {
                MatchedLinear l = linearOrNull(attnAdd.input(side));
                if (l != null && producers.containsKey(l.input) && producers.get(l.input).opType().equals("Reshape")) {
                    attnOut = l; layerIn = attnAdd.input(1 - side);
                }
            }
            if (attnOut == null) throw mismatch(attnAdd, "expected attention output projection + residual");
            Attention att = attention(attnOut.input, layerIn);
            if (heads[0] != 0 && (heads[0] != att.heads || divisor[0] != att.divisor)) throw mismatch(attnAdd, "layers differ in head count or score scale");
            heads[0] = att.heads;
            divisor[0] = att.divisor;
            layers.add(new EncoderLayer(att.q, att.k, att.v, attnOut.linear, ln1.weights, ffnIn.linear, ffnOut.linear, ln2.weights));
            h = layerIn;
        }
    }

    private EncoderModel finish(Embeddings emb, List<EncoderLayer> layers, int heads, float divisor) {
        List<String> leftover = new ArrayList<>();
        for (OnnxNode n : model.nodes()) if (!used.contains(n)) leftover.add(n.toString());
        if (!leftover.isEmpty()) {
            throw new UnsupportedModelException(model.source() + ": " + leftover.size() + " node(s) are not part of the"
                    + " recognized BERT encoder structure, e.g. " + leftover.subList(0, Math.min(5, leftover.size()))
                    + " (opset " + model.opset() + "); offload will not run a graph it only partly understands");
        }
        if (layers.isEmpty()) throw new UnsupportedModelException(model.source() + ": no encoder layers found");
        int hidden = emb.norm().gamma().length;
        EncoderConfig config = new EncoderConfig(hidden, heads, layers.size(), layers.getFirst().intermediate().outputs(),
                emb.word().length / hidden, emb.position().length / hidden,
                emb.tokenType() == null ? 0 : emb.tokenType().length / hidden, divisor);
        return new EncoderModel(model.source(), config, emb, List.copyOf(layers));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Matchers. Each takes the value a structure produces and returns what feeds it, marking its nodes used.

    private UnsupportedModelException mismatch(OnnxNode n, String why) {
        return new UnsupportedModelException(model.source() + ": unrecognized graph structure at "
                + (n == null ? "a graph input" : n.toString()) + " (opset " + model.opset() + "): " + why);
    }

    /** The producer of {@code value}, which must be an {@code op} node. */
    private OnnxNode node(String value, String op) {
        OnnxNode n = producers.get(value);
        if (n == null || !n.opType().equals(op)) throw mismatch(n, "expected " + op + " producing '" + value + "'");
        return n;
    }

    private OnnxNode nodeOrNull(String value, String op) {
        OnnxNode n = producers.get(value);
        return n != null && n.opType().equals(op) ? n : null;
    }

    private OnnxTensor constant(OnnxNode n, int input) {
        OnnxTensor t = folder.value(n.input(input));
        if (t == null) throw mismatch(n, "input " + input + " ('" + n.input(input) + "') must be a constant");
        return t;
    }

    /** Which input of a binary node is constant (0 or 1), or -1. */
    private int constantSide(OnnxNode n) {
        if (folder.isConstant(n.input(1))) return 1;
        if (folder.isConstant(n.input(0))) return 0;
        return -1;
    }

    private void expectScalar(OnnxNode n, float want, float tolerance) {
        int c = constantSide(n);
        if (c < 0 || !folder.value(n.input(c)).isScalarLike() || Math.abs(folder.value(n.input(c)).scalar() - want) > tolerance) {
            throw mismatch(n, "expected the constant " + want);
        }
    }

    private record LayerNorm(String input, LayerNormWeights weights) {}

    /** LayerNormalization, or its decomposed form Add(Mul(Div(Sub(x, mean x), Sqrt(Add(mean (Sub)^2, eps))), gamma), beta). */
    private LayerNorm layerNorm(String value) {
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

    private record MatchedLinear(String input, Linear linear) {}

    private MatchedLinear linear(String value) {
        MatchedLinear l = linearOrNull(value);
        if (l == null) throw mismatch(producers.get(value), "expected a linear layer (MatMul + Add bias, or its dynamic int8 form)");
        return l;
    }

    /**
     * Float: Add(bias, MatMul(x, W)). Dynamic int8 (ONNX Runtime's quantizer):
     * Add(bias, Mul(Cast(MatMulInteger(xq, Wq, x_zero, w_zero)), Mul(x_scale, w_scale))) with
     * (xq, x_scale, x_zero) = DynamicQuantizeLinear(x). Returns null when {@code value} is not such a structure.
     */
    private MatchedLinear linearOrNull(String value) {
        OnnxNode add = nodeOrNull(value, "Add");
        float[] bias = null;
        String product = value;
        if (add != null) {
            int b = constantSide(add);
            if (b < 0 || folder.value(add.input(b)).rank() != 1) return null;
            bias = folder.value(add.input(b)).toFloats();
            product = add.input(1 - b);
        }
        OnnxNode matmul = nodeOrNull(product, "MatMul");
        if (matmul != null) {
            OnnxTensor w = folder.value(matmul.input(1));
            if (w == null || w.rank() != 2 || w.floats() == null) return null;
            int k = w.dim(0), n = w.dim(1);
            if (bias == null) bias = new float[n];
            if (bias.length != n) return null;
            markUsed(add, matmul);
            return new MatchedLinear(matmul.input(0), new FloatLinearWeights(k, n, w.floats(), bias));
        }
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
            int k = w.dim(0), n = w.dim(1);
            float[] wScale = perColumn(scales, folder.value(scales.input(ws)).toFloats(), n);
            long[] wZero = mmi.inputs().size() > 3 && !mmi.input(3).isEmpty() ? constant(mmi, 3).toLongs() : new long[] {0};
            if (wZero.length != 1 && wZero.length != n) throw mismatch(mmi, "B's zero point must be per tensor or per column");
            byte[] q = w.bytes().clone();
            int[] zero = new int[n];
            boolean anyZero = false;
            for (int c = 0; c < n; c++) {
                zero[c] = (int) wZero[wZero.length == 1 ? 0 : c];
                // uint8 weights: shift both weight and zero point by -128 (w - z is unchanged) to store int8.
                if (w.type() == OnnxType.UINT8) zero[c] -= 128;
                anyZero |= zero[c] != 0;
            }
            if (w.type() == OnnxType.UINT8) for (int i = 0; i < q.length; i++) q[i] = (byte) (Byte.toUnsignedInt(q[i]) - 128);
            else if (w.type() != OnnxType.INT8) throw mismatch(mmi, "B must be int8 or uint8, is " + w.type());
            if (bias == null) bias = new float[n];
            if (bias.length != n) return null;
            markUsed(add, scaleMul, cast, scales, mmi, dql);
            return new MatchedLinear(dql.input(0), new QuantizedLinear(k, n, q, wScale, anyZero ? zero : null, bias));
        }
        return null;
    }

    private float[] perColumn(OnnxNode n, float[] s, int columns) {
        if (s.length == columns) return s;
        if (s.length == 1) { float[] r = new float[columns]; Arrays.fill(r, s[0]); return r; }
        throw mismatch(n, "weight scale must be per tensor or per column, has " + s.length + " values for " + columns + " columns");
    }

    private void markUsed(OnnxNode... nodes) { for (OnnxNode n : nodes) if (n != null) used.add(n); }

    private boolean isGelu(String value) {
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
    private String gelu(String value) {
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

    private record Attention(Linear q, Linear k, Linear v, int heads, float divisor) {}

    /**
     * context = Reshape(Transpose(MatMul(Softmax(Add(Div(MatMul(Qh, Kh), d), mask)), Vh), [0,2,1,3]), [B,S,H]) with
     * Qh = Transpose(Reshape(q, [B,S,heads,dh]), [0,2,1,3]), Kh the same with [0,2,3,1], Vh as Qh, and q, k, v
     * linear layers of {@code layerIn}.
     */
    private Attention attention(String context, String layerIn) {
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
        int heads = -1;
        Linear[] qkv = new Linear[3];
        OnnxNode[] ts = {tq, tk, tv};
        for (int i = 0; i < 3; i++) {
            OnnxNode split = node(ts[i].input(0), "Reshape");
            long[] in = folder.shape(split.input(0)), out = folder.shape(split.output());
            if (in.length != 3 || out.length != 4 || out[0] != in[0] || out[1] != in[1] || out[2] * out[3] != in[2]) {
                throw mismatch(split, "expected a split of [B,S,H] into [B,S,heads,head_size], got " + Arrays.toString(in) + " -> " + Arrays.toString(out));
            }
            if (heads >= 0 && heads != out[2]) throw mismatch(split, "Q, K, V have different head counts");
            heads = (int) out[2];
            MatchedLinear l = linear(split.input(0));
            if (!l.input.equals(layerIn)) throw mismatch(split, "Q/K/V do not read the layer input");
            qkv[i] = l.linear;
            used.add(split);
        }
        if (!Arrays.equals(bsh, new long[] {PROBE_BATCH, PROBE_TOKENS, qkv[0].outputs()})) {
            throw mismatch(merge, "expected heads merged back to [B,S,H], got " + Arrays.toString(bsh));
        }
        markUsed(merge, tOut, pv, softmax, maskAdd, scale, qk, tq, tk, tv);
        return new Attention(qkv[0], qkv[1], qkv[2], heads, divisor);
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
    private Embeddings embeddings(LayerNorm ln) {
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
        float s = scale.scalar();
        float[] out = new float[table.size()];
        for (int i = 0; i < out.length; i++) {
            int q = table.type() == OnnxType.UINT8 ? table.uint8(i) : table.bytes()[i];
            out[i] = (float) (q - zero) * s;
        }
        return out;
    }

    private boolean isPositionIds(String value) {
        OnnxTensor t = folder.value(value);
        if (t == null || t.longs() == null || t.size() != PROBE_TOKENS) return false;
        for (int i = 0; i < t.size(); i++) if (t.longs()[i] != i) return false;
        return true;
    }
}
