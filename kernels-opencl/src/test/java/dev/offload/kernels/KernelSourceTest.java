package dev.offload.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Kernel sources as the compiler gets them: one string, shared pieces spliced in, hashed as built. */
class KernelSourceTest {
    @Test
    void includedPiecesAreSplicedInAndCoveredByTheHash() {
        // int8_gemm_tiled gets erf.clh through int8_gemm.clh: pieces that include pieces are spliced in too.
        for (KernelFamily f : new KernelFamily[] {KernelFamily.INT8_GEMM, KernelFamily.INT8_GEMM_TILED, KernelFamily.LAYERS, KernelFamily.SPMM}) {
            KernelSource s = KernelSource.load(f);
            assertFalse(s.text().contains("#include \"erf.clh\""), f + " still has its include line");
            assertTrue(s.text().contains("OFFLOAD_DEFINE_ERF(offload_erf, float)"), f + " lacks erf.clh");
            assertEquals(KernelSource.sha256(s.text()), s.sha256(), f + ": the hash covers the spliced text");
        }
    }

    @Test
    void everyFamilyGetsTheSharedPreambleOnce() {
        for (KernelFamily f : KernelFamily.values()) {
            String text = KernelSource.load(f).text();
            assertFalse(text.contains("#include"), f + " still has an include line");
            assertEquals(1, text.split("#define KERNEL_SHAPE __attribute__", -1).length - 1, f + ": offload.clh spliced in once");
        }
    }

    @Test
    void everyFamilyLoads() {
        for (KernelFamily f : KernelFamily.values()) assertFalse(KernelSource.load(f).text().isBlank(), f.id());
    }
}
