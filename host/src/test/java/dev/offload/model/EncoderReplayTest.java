package dev.offload.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.offload.model.onnx.EncoderImporter;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import dev.offload.runtime.PlacementSpec;
import dev.offload.session.GraphEncoder;
import dev.offload.testing.CpuDeviceFixture;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An imported encoder's session replays: without profiling, a {@link GraphEncoder} records each batch shape's first
 * run on the OpenCL device and replays it, every node inside one command buffer (no segment breaks, no node
 * enqueued plainly), and gives the bits of a plain run (the profiling encoder runs plainly) for other batches of the
 * same shape, padded differently, and for the first batch again.
 */
class EncoderReplayTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    @Test
    void allMiniLmReplaysInOneSegmentWithThePlainRunsBits() {
        assumeTrue(CL.device().device().commandBuffersUnsupported() == null, "the device cannot record command buffers");
        ModelCatalog m = ModelCatalog.ALL_MINILM_L6_V2_Q;
        EncoderModel model = EncoderImporter.importBytes(m.onnxBytes(), m.onnxEntry);
        WordPieceTokenizer tok = WordPieceTokenizer.fromJson(m.tokenizerBytes(), m.tokenizerEntry);
        List<TokenBatch> batches = new ArrayList<>();
        for (int first : new int[] {0, 3, 0, 6}) {
            List<TokenBatch.Sequence> seqs = new ArrayList<>();
            for (int i = first; i < first + 3; i++) seqs.add(tok.encode(EncoderAccuracyTest.SENTENCES.get(i), 24));
            batches.add(TokenBatch.pad(seqs, tok.padId(), 24));
        }
        PlacementSpec device = PlacementSpec.parse(CL.device().spec());
        try (GraphEncoder replaying = new GraphEncoder(model, null, CL.pool(), device, true, false, null);
             GraphEncoder plain = new GraphEncoder(model, null, CL.pool(), device, true, true, null)) {
            List<float[]> got = new ArrayList<>();
            for (int i = 0; i < batches.size(); i++) {
                got.add(replaying.lastHiddenState(batches.get(i)));
                assertArrayEquals(plain.lastHiddenState(batches.get(i)), got.get(i), "batch " + i);
            }
            String status = replaying.replayStatus(3, 24);
            assertTrue(status.startsWith("replaying ") && status.contains(" in 1 segment(s), 0 node(s) enqueued plainly"), status);
            assertTrue(plain.replayStatus(3, 24).startsWith("plain"), plain.replayStatus(3, 24));
            assertFalse(java.util.Arrays.equals(got.get(0), got.get(1)), "different sentences give different states");
        }
    }
}
