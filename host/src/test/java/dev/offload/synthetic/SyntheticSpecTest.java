package dev.offload.synthetic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.graph.Graph;
import dev.offload.graph.SparseLinear;
import org.junit.jupiter.api.Test;

class SyntheticSpecTest {
    @Test
    void parsesTheIssueExample() {
        SyntheticSpec s = SyntheticSpec.parse("synthetic:arch=decoder,layers=4,hidden=512,heads=8,kv-heads=2,ffn=1408,seq=128,batch=4");
        assertEquals(SyntheticSpec.Arch.DECODER, s.arch());
        assertEquals(64, s.headDim());
        assertEquals(2, s.kvHeads());
        assertEquals(512, s.tokens());
        assertEquals(s, SyntheticSpec.parse(s.toString()));
    }

    @Test
    void errorsNameTheProblem() {
        String[][] cases = {
                {"synthetic:layers=2", "arch"},
                {"synthetic:arch=lstm", "encoder or decoder"},
                {"synthetic:arch=decoder,hidden=100,heads=3", "multiple of heads"},
                {"synthetic:arch=decoder,heads=8,kv-heads=3,hidden=64", "kv-heads"},
                {"synthetic:arch=decoder,layers=-1", "positive"},
                {"synthetic:arch=decoder,depth=3", "unknown key 'depth'"},
                {"synthetic:arch=decoder,sparsity=1.5", "sparsity"},
                {"synthetic:arch=encoder,format=bsr:0x4,sparsity=0.5", "sparse format"},
                {"model.onnx", "synthetic:"},
        };
        for (String[] c : cases) {
            var e = assertThrows(IllegalArgumentException.class, () -> SyntheticSpec.parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void sparsityPrunesEveryLinearAndIsSeeded() {
        SyntheticSpec s = SyntheticSpec.parse("synthetic:arch=encoder,layers=1,hidden=32,heads=2,ffn=64,seq=4,sparsity=0.75,format=bsr:4x4");
        Graph g = SyntheticModel.build(s);
        var sparse = g.nodes().stream().filter(n -> n.op() instanceof SparseLinear).map(n -> (SparseLinear) n.op()).toList();
        assertEquals(6, sparse.size());
        for (SparseLinear l : sparse) {
            assertEquals(0.25, (double) l.nonZeros() / l.weight().length, 0.02);
            assertEquals("bsr:4x4", l.format().toString());
        }
        SparseLinear again = (SparseLinear) SyntheticModel.build(s).node("layer.0.attn.q").op();
        assertTrue(java.util.Arrays.equals(again.weight(), sparse.getFirst().weight()), "same seed, same weights");
    }

    @Test
    void twoFourKeepsTwoOfEveryFourAlongK() {
        SyntheticSpec s = SyntheticSpec.parse("synthetic:arch=decoder,layers=1,hidden=16,heads=2,ffn=32,seq=4,sparsity=2:4");
        SparseLinear l = (SparseLinear) SyntheticModel.build(s).node("layer.0.mlp.down").op();
        for (int c = 0; c < l.outFeatures(); c++) {
            for (int g = 0; g < l.inFeatures(); g += 4) {
                int nz = 0;
                for (int r = g; r < g + 4; r++) if (l.weight()[r * l.outFeatures() + c] != 0) nz++;
                assertTrue(nz <= 2, "group at row " + g + " column " + c + " has " + nz + " non-zeros");
            }
        }
    }
}
