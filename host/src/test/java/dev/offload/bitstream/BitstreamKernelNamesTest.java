package dev.offload.bitstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The kernels a program must contain, read from OpenCL C text and build options. */
class BitstreamKernelNamesTest {

    @Test
    void kernelsAreFoundWithAttributesAndAcrossLinesButNotInComments() {
        String src = """
                // __kernel void commented(int x) {}
                /* kernel void alsoCommented(
                   int x) */
                __kernel __attribute__((reqd_work_group_size(16, 1, 1)))
                void gemm(__global const char* a) { }
                kernel void
                  pack(__global int* b) { }
                __attribute__((vec_type_hint(float4))) __kernel void scale(float s) { }
                void helper(int x) { }
                """;
        assertEquals(List.of("gemm", "pack", "scale"), List.copyOf(KernelNames.required(src, "")));
    }

    @Test
    void conditionalKernelsFollowTheDefinesOfTheOptions() {
        String src = """
                #define HAVE_BASE 1
                #if HAVE_BASE
                __kernel void base(int x) {}
                #endif
                #ifdef USE_DOT
                __kernel void gemm_dot(int x) {}
                #elif defined(USE_WIDE)
                __kernel void gemm_wide(int x) {}
                #else
                __kernel void gemm_plain(int x) {}
                #endif
                #ifndef NO_PACK
                __kernel void pack(int x) {}
                #endif
                #if TILE > 8
                __kernel void unknown_condition(int x) {}
                #endif
                """;
        assertEquals(Set.of("base", "gemm_plain", "pack"), KernelNames.required(src, ""));
        assertEquals(Set.of("base", "gemm_dot", "pack"), KernelNames.required(src, "-D USE_DOT -DTILE=16"));
        assertEquals(Set.of("base", "gemm_wide"), KernelNames.required(src, "-DUSE_WIDE=1 -D NO_PACK"));
    }
}
