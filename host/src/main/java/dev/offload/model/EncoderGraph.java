package dev.offload.model;

import dev.offload.ops.gemm.Activation;
import dev.offload.graph.Add;
import dev.offload.graph.Attention;
import dev.offload.graph.BlockLinear;
import dev.offload.graph.Gelu;
import dev.offload.graph.Embedding;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.Int8Linear;
import dev.offload.graph.Int8LinearGroup;
import dev.offload.graph.LayerNorm;
import dev.offload.graph.LayerNormQuantize;
import dev.offload.graph.Op;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.SparseFormat;
import dev.offload.graph.SparseLinear;
import dev.offload.graph.TensorType;
import dev.offload.ops.sparse.BsrLinear;
import dev.offload.tensor.DType;
import java.util.List;
import java.util.Locale;

/**
 * An imported {@link EncoderModel} as a graph for the runtime, with the semantics of {@link EncoderReference} run
 * with {@link ActivationQuantization#PER_SENTENCE}:
 * <pre>
 * embed:   word[ids] + token_type[types] + position -> LayerNorm
 * layer i: quantize (per sentence, one for Q, K and V, as the ONNX graph shares its DynamicQuantizeLinear)
 *          -> Q, K, V int8 linears (one group node) -> attention (keys past lengths[b] ignored) -> quantize -> output linear
 *          -> + x -> LayerNorm -> quantize -> FFN up linear with erf-GELU in its epilogue -> quantize
 *          -> FFN down linear -> + x -> LayerNorm
 * </pre>
 * A factorized linear ({@link FactorizedLinear}) is two int8 linears with a quantize between them.
 * Each residual "+ x -> LayerNorm" (and the embeddings' last sum with their LayerNorm) is one layer_norm node with
 * a residual input: one launch and no sum tensor, the bits of the Add and LayerNorm pair (LayerNorm's javadoc).
 * A norm whose output int8 linears read (all but the last) is a layer_norm_quantize node that also quantizes it
 * per sentence ({@link LayerNormQuantize}): the norm's and the quantize's bits, one launch fewer on a CPU device.
 * The float ops round as ONNX Runtime's CPU provider rounds the exported graph (LayerNorm, attention and GELU in
 * their ONNX Runtime forms, see dev.offload.math.OnnxRuntimeCpu), so that the int8 activations match ONNX Runtime's
 * bit for bit (unless the weights are pruned).
 * Inputs: {@code input_ids} and {@code token_type_ids} int32 [B, S], {@code lengths} int32 [B] (real tokens, right
 * padding). Output: the last LayerNorm ({@link #hiddenName}) [B, S, H] (last_hidden_state); the
 * sentence embedding is pooled from it on the host ({@link Pooling#embed}), once. A float model's linears become float_linear nodes.
 * A 4-bit model's ({@link BlockQuantizedLinear}, {@code compress --method int4}) become block linears (blockq, W4A8)
 * fed by a per-block int8 quantize instead of the per-sentence one, the FFN's GELU a node after the up projection.
 *
 * <p>The ops reference the model's arrays (weights, scales, biases, norm gains, embedding tables), not copies, so
 * the graphs built for different shapes share one device copy of each (runtime.ResidentWeights keys them by
 * identity). Two things are derived: the int8 zero points (a few bytes per layer; the device copy is keyed by their
 * values) and pruned weights ({@link PrunedWeights}, made once per model weight).
 */
public final class EncoderGraph {
    private EncoderGraph() {}

    public static final String IDS = "input_ids", TYPES = "token_type_ids", LENGTHS = "lengths";

    /**
     * Magnitude pruning applied to every int8 linear weight when the graph is built: the layers become sparse_linear
     * nodes. Pruning is per output channel (dev.offload.ops.sparse.Pruning): 2:4 keeps the 2 largest |w| of every 4
     * along K; a sparsity s keeps the largest (1 - s) of each channel's K weights, stored as CSR; {@code bsr:s} or
     * {@code bsr:RxC:s} zeroes the fraction s of each block row's R x C blocks (R output channels x C inputs, by L2
     * norm) and runs the block-sparse kernel; the default block is {@link BsrLinear#DEFAULT_BLOCK}.
     */
    public record Prune(SparseFormat format, double sparsity) {
        private static final String USAGE = "use 2:4, a sparsity between 0 and 1 (e.g. 0.5, per channel as CSR), or bsr:SPARSITY"
                + " / bsr:RxC:SPARSITY (blocks, e.g. bsr:0.9 or bsr:16x4:0.9)";

        public static Prune parse(String text) {
            String t = text.strip().toLowerCase(Locale.ROOT);
            if (t.equals("2:4")) return new Prune(SparseFormat.TWO_FOUR, 0.5);
            SparseFormat format = SparseFormat.CSR;
            String sparsity = t;
            if (t.startsWith("bsr:")) {
                int last = t.lastIndexOf(':');
                String block = t.substring(4, Math.max(4, last));
                sparsity = t.substring(last + 1);
                try {
                    format = block.isEmpty() ? BsrLinear.DEFAULT_BLOCK : SparseFormat.parse("bsr:" + block);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--prune " + text + ": block '" + block + "' is not RxC; " + USAGE);
                }
            }
            try {
                double s = Double.parseDouble(sparsity);
                if (s > 0 && s < 1) return new Prune(format, s);
            } catch (NumberFormatException ignored) {
                // fall through to the error
            }
            throw new IllegalArgumentException("--prune " + text + ": " + USAGE);
        }

        /**
         * The weights are already pruned (a file written by {@code offload compress}): they run on the sparse kernels
         * in {@code format} as they are, not pruned again. Sparsity 0 marks it.
         */
        public static Prune asStored(SparseFormat format) { return new Prune(format, 0); }

        public boolean stored() { return sparsity == 0; }

        @Override public String toString() {
            if (stored()) return "as stored (" + format + ")";
            return format.kind() == SparseFormat.Kind.TWO_FOUR ? "2:4" : String.format(Locale.ROOT, "%.0f%% (%s)", 100 * sparsity, format);
        }
    }

    /** The graph for batches of {@code batch} sequences of {@code seq} tokens; {@code prune} null keeps the weights dense. */
    public static Graph build(EncoderModel model, int batch, int seq, Prune prune) {
        EncoderConfig c = model.config();
        int h = c.hidden();
        if (seq > c.maxPositions()) throw new IllegalArgumentException("sequence length " + seq + " exceeds the model's " + c.maxPositions() + " positions");
        GraphBuilder g = new GraphBuilder(model.name());
        String ids = g.input(IDS, TensorType.of(DType.INT32, batch, seq));
        String types = g.input(TYPES, TensorType.of(DType.INT32, batch, seq));
        String lengths = g.input(LENGTHS, TensorType.of(DType.INT32, batch));

        g.layer("embed");
        Embeddings e = model.embeddings();
        String sum = g.add1("embed.word", Embedding.ofFloat(e.word(), c.vocabSize(), h, Embedding.Index.TOKEN), ids);
        if (e.tokenType() != null) {
            String type = g.add1("embed.token_type", Embedding.ofFloat(e.tokenType(), e.tokenType().length / h, h, Embedding.Index.TOKEN), types);
            sum = g.add1("embed.add_token_type", new Add(), sum, type);
        }
        String pos = g.add1("embed.position", Embedding.ofFloat(e.position(), e.position().length / h, h, Embedding.Index.POSITION), ids);
        // The last sum is the norm's residual input: one launch for Add + LayerNorm, the same bits (see LayerNorm).
        int layers = model.layers().size();
        String[] normed = normQuantized(g, "embed.norm", e.norm(), "layer.0.attn.quantize", layers > 0 ? model.layers().getFirst().query() : null,
                lengths, sum, pos);

        for (int i = 0; i < layers; i++) {
            EncoderLayer l = model.layers().get(i);
            String p = "layer." + i;
            g.layer(p);
            String x = normed[0];
            String[] xq = quantized(normed);
            String[] qkv = queryKeyValue(g, p, l, prune, xq, x, lengths);
            String a = g.add1(p + ".attn", Attention.onnxRuntime(c.heads(), c.headSize(), c.scoreDivisor()), qkv[0], qkv[1], qkv[2], lengths);
            String o = linear(g, p + ".attn.out", l.attentionOutput(), Activation.NONE, prune,
                    quantize(g, p + ".attn.out.quantize", a, lengths, l.attentionOutput()), a, lengths);
            // LayerNorm(o + x): the residual add fused
            String[] normed1 = normQuantized(g, p + ".attn.norm", l.attentionNorm(), p + ".ffn.quantize", l.intermediate(), lengths, o, x);
            String x1 = normed1[0];
            // Pruned weights are not the model ONNX Runtime runs, and spmm.cl has the plain GELU only.
            Activation gelu = prune == null ? Activation.GELU_ERF_ONNX : Activation.GELU_ERF;
            String f1 = linear(g, p + ".ffn.up", l.intermediate(), gelu, prune, quantized(normed1), x1, lengths);
            String f2 = linear(g, p + ".ffn.down", l.output(), Activation.NONE, prune, quantize(g, p + ".ffn.down.quantize", f1, lengths, l.output()), f1, lengths);
            normed = normQuantized(g, p + ".ffn.norm", l.outputNorm(), "layer." + (i + 1) + ".attn.quantize",
                    i + 1 < layers ? model.layers().get(i + 1).query() : null, lengths, f2, x1);
        }
        g.output(normed[0]);
        return g.build();
    }

    /** The name of the hidden-state output (the last LayerNorm) of a graph built for {@code model}. */
    public static String hiddenName(EncoderModel model) { return "layer." + (model.layers().size() - 1) + ".ffn.norm"; }

    private static LayerNorm norm(LayerNormWeights w) { return new LayerNorm(w.gamma(), w.beta(), w.epsilon(), true); }

    /**
     * A LayerNorm of {@code in} (x, or x and its residual) and the quantize that {@code reader} (null: none, the
     * output's norm) reads: {normed, data, scales, zero points}, or {normed} alone without a reader. For int8 readers
     * one {@link LayerNormQuantize} node named {@code name} (the norm's bits and the per-sentence quantize's, in one
     * launch where that pays); for 4-bit ones the norm, then their per-block quantize named {@code quantizeName}.
     */
    private static String[] normQuantized(GraphBuilder g, String name, LayerNormWeights w, String quantizeName, Linear reader, String lengths,
                                          String... in) {
        if (reader == null || reader instanceof BlockQuantizedLinear) {
            String y = g.add1(name, norm(w), in);
            if (reader == null) return new String[] {y};
            String[] q = quantize(g, quantizeName, y, lengths, reader);
            return new String[] {y, q[0], q[1], q[2]};
        }
        String[] withLengths = java.util.Arrays.copyOf(in, in.length + 1);
        withLengths[in.length] = lengths;
        return g.add(name, new LayerNormQuantize(norm(w)), withLengths).toArray(String[]::new);
    }

    /** The quantized triple of {@link #normQuantized}'s result. */
    private static String[] quantized(String[] normed) { return java.util.Arrays.copyOfRange(normed, 1, 4); }

    /**
     * The quantize node an activation gets for the linears that read it: per sentence to uint8 for int8 linears, per
     * block of 32 to int8 for 4-bit ones (what BlockLinear reads; each row alone, so padding changes nothing either).
     * A float model's graph keeps its per-sentence node, as it always had, though its linears read x itself.
     */
    private static String[] quantize(GraphBuilder g, String name, String x, String lengths, Linear reader) {
        if (reader instanceof BlockQuantizedLinear) {
            return g.add(name, new DynamicQuantize(DynamicQuantize.Mode.PER_BLOCK_INT8), x).toArray(String[]::new);
        }
        return g.add(name, new DynamicQuantize(DynamicQuantize.Mode.PER_SENTENCE_UINT8), x, lengths).toArray(String[]::new);
    }

    /**
     * A layer's Q, K and V projections of one quantized x: {q, k, v}. Dense int8 ones are one {@link Int8LinearGroup} node
     * ({@code p.attn.qkv}: one launch where the device's GEMM has a group form, each output the bits of its linear
     * alone); any other kind (pruned, factorized, 4-bit, float) is three nodes.
     */
    private static String[] queryKeyValue(GraphBuilder g, String p, EncoderLayer l, Prune prune, String[] xq, String x, String lengths) {
        if (prune == null && l.query() instanceof QuantizedLinear q && l.key() instanceof QuantizedLinear k && l.value() instanceof QuantizedLinear v) {
            List<Int8Linear> parts = List.of((Int8Linear) int8(q, Activation.NONE, null, p + ".attn.q"),
                    (Int8Linear) int8(k, Activation.NONE, null, p + ".attn.k"), (Int8Linear) int8(v, Activation.NONE, null, p + ".attn.v"));
            if (Int8LinearGroup.fits(parts)) return g.add(p + ".attn.qkv", new Int8LinearGroup(parts), xq).toArray(String[]::new);
        }
        return new String[] {linear(g, p + ".attn.q", l.query(), Activation.NONE, prune, xq, x, lengths),
                linear(g, p + ".attn.k", l.key(), Activation.NONE, prune, xq, x, lengths),
                linear(g, p + ".attn.v", l.value(), Activation.NONE, prune, xq, x, lengths)};
    }

    /**
     * An int8 or 4-bit linear reads the quantized triple; a float one (a float model) reads x itself. A factorized one
     * is its two int8 linears with a quantize of the first's float output between them (per sentence, like every
     * other); the activation goes to the second. BlockLinear has no epilogue: the FFN's GELU follows it as a node of
     * its own (erf, {@link Gelu}; dev.offload.model.EncoderReference applies the same).
     */
    private static String linear(GraphBuilder g, String name, Linear layer, Activation act, Prune prune, String[] quantized, String x,
                                 String lengths) {
        return switch (layer) {
            case FloatLinearWeights f -> g.add1(name, new dev.offload.graph.Fp32Linear(f.inputs(), f.outputs(), f.weight(), f.bias(), act), x);
            case QuantizedLinear q -> g.add1(name, int8(q, act, prune, name), quantized);
            case FactorizedLinear f -> {
                String inner = g.add1(name + ".a", int8(f.first(), Activation.NONE, prune, name + ".a"), quantized);
                yield g.add1(name, int8(f.second(), act, prune, name + ".b"), quantize(g, name + ".b.quantize", inner, lengths, f.second()));
            }
            case BlockQuantizedLinear b -> {
                if (prune != null) throw new UnsupportedModelException(name + " has 4-bit weights; --prune needs int8 weights");
                String y = g.add1(name, new BlockLinear(b.inputs(), b.outputs(), b.weight(), b.bias()), quantized);
                yield act == Activation.NONE ? y : g.add1(name + ".gelu", new Gelu(false), y);
            }
        };
    }

    private static Op int8(QuantizedLinear q, Activation act, Prune prune, String name) {
        int k = q.inputs(), n = q.outputs();
        if (prune == null) {
            byte[] zp = null;
            if (q.zeroPoint() != null) {
                zp = new byte[n];
                for (int j = 0; j < n; j++) {
                    int z = q.zeroPoint()[j];
                    if (z < -128 || z > 127) throw new UnsupportedModelException(name + ": weight zero point " + z + " is outside int8");
                    zp[j] = (byte) z;
                }
            }
            return new Int8Linear(k, n, q.weight(), q.scale(), zp, q.bias(), act);
        }
        for (int j = 0; j < n; j++) {
            if (q.zeroPoint(j) != 0) {
                throw new UnsupportedModelException(name + " has asymmetric int8 weights (zero point " + q.zeroPoint(j)
                        + " in column " + j + "); --prune needs symmetric weights, where a zero weight is a zero");
            }
        }
        // One pruned array per model weight, whatever the graph's shape: the device keeps one copy of it.
        byte[] w = prune.stored() ? q.weight() : PrunedWeights.of(q.weight(), k, n, prune);
        return new SparseLinear(k, n, w, q.scale(), q.bias(), act, prune.format());
    }
}
