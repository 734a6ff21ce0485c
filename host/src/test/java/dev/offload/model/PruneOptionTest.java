package dev.offload.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.graph.SparseFormat;
import dev.offload.ops.sparse.BsrLinear;
import org.junit.jupiter.api.Test;

/** {@code run --prune}'s forms: 2:4, a CSR sparsity, and whole blocks (bsr:S with the default block, or bsr:RxC:S). */
class PruneOptionTest {
    @Test
    void eachFormNamesItsFormatAndSparsity() {
        assertEquals(new EncoderGraph.Prune(SparseFormat.TWO_FOUR, 0.5), EncoderGraph.Prune.parse("2:4"));
        assertEquals(new EncoderGraph.Prune(SparseFormat.CSR, 0.75), EncoderGraph.Prune.parse("0.75"));
        assertEquals(new EncoderGraph.Prune(BsrLinear.DEFAULT_BLOCK, 0.9), EncoderGraph.Prune.parse("bsr:0.9"));
        assertEquals(new EncoderGraph.Prune(SparseFormat.parse("bsr:16x4"), 0.9), EncoderGraph.Prune.parse(" BSR:16x4:0.9 "));
        assertEquals(new EncoderGraph.Prune(SparseFormat.parse("bsr:64x8"), 0.5), EncoderGraph.Prune.parse("bsr:64x8:0.5"));
    }

    @Test
    void theDefaultBlockIsWholeKernelBlocks() {
        assertEquals(SparseFormat.Kind.BSR, BsrLinear.DEFAULT_BLOCK.kind());
        assertEquals(BsrLinear.DEFAULT_BLOCK.blockRows(), BsrLinear.blockRows(BsrLinear.DEFAULT_BLOCK), "stored without padding zeros");
    }

    @Test
    void badFormsSayWhatIsWrongInOneLine() {
        for (String bad : new String[] {"1", "0", "bsr:1.0", "bsr:0", "bsr:", "bsr:16:0.9", "bsr:0x4:0.9", "bsr:16x4:", "bsr:16x4", "csr:0.5", "half"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EncoderGraph.Prune.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--prune " + bad + ": "), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }
}
