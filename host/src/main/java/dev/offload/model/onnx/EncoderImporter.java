package dev.offload.model.onnx;

import dev.offload.model.Embeddings;
import dev.offload.model.EncoderConfig;
import dev.offload.model.EncoderLayer;
import dev.offload.model.EncoderModel;
import dev.offload.model.UnsupportedModelException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
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
 * {@link UnsupportedModelException} naming the node, never a silently different computation. The structures
 * themselves are {@link LayerPatterns}; this class reads the file, checks the operators and walks the layers.
 *
 * <p>Weights are read without needless copies: a file is memory-mapped and bundled bytes are used in place
 * (protobuf's raw_data aliases them), each initializer is decoded into its array once, and those arrays become the
 * model's weights.
 */
public final class EncoderImporter {
    private final OnnxModel model;
    private final LayerPatterns patterns;

    private EncoderImporter(OnnxModel model) {
        this.model = model;
        Map<String, String> roles = new HashMap<>();
        for (var in : model.inputs()) roles.put(in.name(), in.name());
        String inputIds = requireInput(roles, "input_ids"), attentionMask = requireInput(roles, "attention_mask");
        Map<String, long[]> probe = new HashMap<>();
        for (var in : model.inputs()) probe.put(in.name(), new long[] {LayerPatterns.PROBE_BATCH, LayerPatterns.PROBE_TOKENS});
        checkOperators();
        patterns = new LayerPatterns(model, new ShapeFolder(model, probe), inputIds, attentionMask, roles.get("token_type_ids"));
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

    /** Imports a model held in memory (a bundled model read from a jar); its tensors' raw data alias the bytes. */
    public static EncoderModel importBytes(byte[] onnx, String source) {
        return importModel(OnnxModel.parse(onnx, source));
    }

    /** Imports a model file, memory-mapped: the weights are decoded from the mapping into their arrays once. */
    public static EncoderModel importFile(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() > Integer.MAX_VALUE) {
                throw new UnsupportedModelException(file + ": " + channel.size() + " bytes; a self-contained ONNX file"
                        + " (one protobuf message) is at most 2 GiB");
            }
            return importModel(OnnxModel.parse(channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()), file.toString()));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    public static EncoderModel importModel(OnnxModel model) {
        return new EncoderImporter(model).run();
    }

    private static final Set<String> OPS = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "ReduceMean",
            "Softmax", "MatMul", "MatMulInteger", "DynamicQuantizeLinear", "DequantizeLinear", "Cast", "Shape", "Gather",
            "Unsqueeze", "Concat", "Slice", "Reshape", "Transpose", "LayerNormalization", "Identity");
    /** Operators of the com.microsoft domain offload reads: 4-bit linears (what {@code offload compress --method int4} writes). */
    private static final Set<String> MICROSOFT_OPS = Set.of("MatMulNBits");

    private void checkOperators() {
        for (var e : model.opsets().entrySet()) {
            if (!e.getKey().equals("ai.onnx") && !e.getKey().equals("com.microsoft")) {
                throw new UnsupportedModelException(model.source() + ": operator set domain '" + e.getKey() + "' is not supported");
            }
        }
        for (OnnxNode n : model.nodes()) {
            boolean standard = n.domain().isEmpty() || n.domain().equals("ai.onnx");
            if (standard ? !OPS.contains(n.opType()) : !n.domain().equals("com.microsoft") || !MICROSOFT_OPS.contains(n.opType())) {
                throw new UnsupportedModelException(model.source() + ": operator " + n.opType()
                        + (n.domain().isEmpty() ? "" : " (domain " + n.domain() + ")") + " in node '" + n.name()
                        + "' (opset " + model.opset() + ") is not supported; offload imports BERT-style encoders built from "
                        + new java.util.TreeSet<>(OPS) + " and com.microsoft " + MICROSOFT_OPS + " (export without graph optimizations/fusions)");
            }
        }
    }

    /** The walk: from the graph output down through the layers to the embeddings. */
    private EncoderModel run() {
        if (model.outputs().isEmpty()) throw new UnsupportedModelException(model.source() + ": the graph has no output");
        String out = model.outputs().getFirst().name();
        List<EncoderLayer> layers = new ArrayList<>();
        int[] heads = {0, 0};   // count, size
        float[] divisor = {0};
        String h = out;
        while (true) {
            LayerPatterns.LayerNorm ln2 = patterns.layerNorm(h);
            OnnxNode residualAdd = patterns.node(ln2.input(), "Add");
            // One side of the residual Add is the FFN's output linear, the other the attention block's output.
            LayerPatterns.MatchedLinear ffnOut = null;
            String attnNormOut = null;
            for (int side = 0; side < 2 && ffnOut == null; side++) {
                LayerPatterns.MatchedLinear l = patterns.linearOrNull(residualAdd.input(side));
                if (l != null && patterns.isGelu(l.input())) { ffnOut = l; attnNormOut = residualAdd.input(1 - side); }
            }
            if (ffnOut == null) {
                // No FFN above: this LayerNorm is the embeddings' one.
                Embeddings emb = patterns.embeddings(ln2);
                Collections.reverse(layers);
                return finish(emb, layers, heads[0], heads[1], divisor[0]);
            }
            patterns.markUsed(residualAdd);
            String geluIn = patterns.gelu(ffnOut.input());
            LayerPatterns.MatchedLinear ffnIn = patterns.linear(geluIn);
            LayerPatterns.LayerNorm ln1 = patterns.layerNorm(attnNormOut);
            if (!ffnIn.input().equals(attnNormOut)) throw patterns.mismatch(patterns.producers.get(geluIn), "the FFN does not read the attention block's LayerNorm output");
            OnnxNode attnAdd = patterns.node(ln1.input(), "Add");
            patterns.markUsed(attnAdd);
            LayerPatterns.MatchedLinear attnOut = null;
            String layerIn = null;
            for (int side = 0; side < 2 && attnOut == null; side++) {
                LayerPatterns.MatchedLinear l = patterns.linearOrNull(attnAdd.input(side));
                if (l != null && patterns.producers.containsKey(l.input()) && patterns.producers.get(l.input()).opType().equals("Reshape")) {
                    attnOut = l; layerIn = attnAdd.input(1 - side);
                }
            }
            if (attnOut == null) throw patterns.mismatch(attnAdd, "expected attention output projection + residual");
            LayerPatterns.Attention att = patterns.attention(attnOut.input(), layerIn);
            if (heads[0] != 0 && (heads[0] != att.heads() || heads[1] != att.headSize() || divisor[0] != att.divisor())) {
                throw patterns.mismatch(attnAdd, "layers differ in head count, head size or score scale");
            }
            heads[0] = att.heads();
            heads[1] = att.headSize();
            divisor[0] = att.divisor();
            layers.add(new EncoderLayer(att.q(), att.k(), att.v(), attnOut.linear(), ln1.weights(), ffnIn.linear(), ffnOut.linear(), ln2.weights()));
            h = layerIn;
        }
    }

    private EncoderModel finish(Embeddings emb, List<EncoderLayer> layers, int heads, int headSize, float divisor) {
        List<String> leftover = patterns.leftovers();
        if (!leftover.isEmpty()) {
            throw new UnsupportedModelException(model.source() + ": " + leftover.size() + " node(s) are not part of the"
                    + " recognized BERT encoder structure, e.g. " + leftover.subList(0, Math.min(5, leftover.size()))
                    + " (opset " + model.opset() + "); offload will not run a graph it only partly understands");
        }
        if (layers.isEmpty()) throw new UnsupportedModelException(model.source() + ": no encoder layers found");
        int hidden = emb.norm().gamma().length;
        EncoderConfig config = new EncoderConfig(hidden, heads, headSize, layers.size(), layers.getFirst().intermediate().outputs(),
                emb.word().length / hidden, emb.position().length / hidden,
                emb.tokenType() == null ? 0 : emb.tokenType().length / hidden, divisor);
        return new EncoderModel(model.source(), config, emb, List.copyOf(layers));
    }
}
