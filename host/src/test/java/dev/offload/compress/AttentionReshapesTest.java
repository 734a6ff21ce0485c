package dev.offload.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.ModelCatalog;
import dev.offload.model.onnx.OnnxModel;
import dev.offload.model.onnx.OnnxNode;
import dev.offload.model.onnx.proto.OnnxProtos.GraphProto;
import dev.offload.model.onnx.proto.OnnxProtos.ModelProto;
import dev.offload.model.onnx.proto.OnnxProtos.NodeProto;
import dev.offload.model.onnx.proto.OnnxProtos.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The head count lives in the graph's Reshape constants: on all-MiniLM-L6-v2-q (6 layers, 12 heads of 32) every
 * split's 12 and every merge's 384 are found and rewritten, and a graph that computes the count is refused.
 */
class AttentionReshapesTest {
    static final byte[] MINILM = ModelCatalog.ALL_MINILM_L6_V2_Q.onnxBytes();

    static long[] longs(TensorProto t) {
        ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        long[] v = new long[b.remaining() / 8];
        b.asLongBuffer().get(v);
        return v;
    }

    @Test
    void everySplitAndMergeOfEveryLayerIsRewritten() {
        OnnxModel g = OnnxModel.parse(MINILM, "minilm");
        Map<String, TensorProto> r = AttentionReshapes.rewritten(g, 9, 32, "minilm");
        int heads = 0, widths = 0;
        for (TensorProto t : r.values()) {
            long[] v = longs(t);
            assertEquals(1, v.length, t.getName());
            if (v[0] == 9) heads++;
            else if (v[0] == 9 * 32) widths++;
            else throw new AssertionError(t.getName() + " = " + v[0]);
        }
        assertEquals(6 * 3, heads, "Q, K and V split in each of 6 layers");
        assertEquals(6, widths, "one merge per layer");
        assertEquals(Map.of(), AttentionReshapes.rewritten(g, 12, 32, "minilm"), "the unpruned count: nothing to change");
    }

    @Test
    void aWrongHeadSizeIsRefused() {
        OnnxModel g = OnnxModel.parse(MINILM, "minilm");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionReshapes.rewritten(g, 6, 64, "minilm"));
        assertTrue(e.getMessage().contains("splits into heads of 32, not 64"), e.getMessage());
    }

    @Test
    void aHeadCountThatIsComputedIsRefusedNotGuessed() throws Exception {
        OnnxModel parsed = OnnxModel.parse(MINILM, "minilm");
        // The first split's Concat: its heads piece (element 2) now passes through an Identity node.
        OnnxNode concat = parsed.nodes().stream().filter(n -> n.opType().equals("Concat") && n.inputs().size() == 4).findFirst().orElseThrow();
        String piece = concat.input(2);
        ModelProto m = ModelProto.parseFrom(MINILM);
        GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getName().equals(concat.name())) g.setNode(i, g.getNode(i).toBuilder().setInput(2, piece + "_computed"));
        }
        g.addNode(NodeProto.newBuilder().setOpType("Identity").setName("computed").addInput(piece).addOutput(piece + "_computed"));
        OnnxModel changed = OnnxModel.parse(m.toBuilder().setGraph(g).build().toByteArray(), "changed");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionReshapes.rewritten(changed, 6, 32, "changed"));
        assertTrue(e.getMessage().startsWith("changed: Concat node '" + concat.name() + "' has a shape piece of unknown length"), e.getMessage());
    }
}
