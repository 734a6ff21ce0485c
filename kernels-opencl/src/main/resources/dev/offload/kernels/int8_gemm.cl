// INT8 GEMM with ONNX MatMulInteger semantics and fused epilogues. Host side: dev.offload.ops.gemm.Int8Gemm.
//
//   C[m,n] = sum_k (A[m,k] - za[m]) * (B[k,n] - zb[n])          int32, wrapping
//
// Everything runs in the signed domain: a uint8 value u with zero point z equals the int8 value (u ^ 0x80)
// with zero point z - 128, so one kernel serves all four int8/uint8 combinations. B is flipped when it is
// packed; A is flipped on load with the run-time mask a_flip (0 or 0x80). The host passes the adjusted
// ("effective") zero points.
//
// za and sa are read with a stride (0 or 1) so that a quantize kernel's per-tensor ([1]) or per-row ([M]) outputs
// feed the GEMM directly from device memory, without a host round trip; za_shift turns a uint8 zero point into
// its signed-domain value.
//
// The zero points are taken out after the dot product, so the inner loop is a plain sum of products:
//   sum_k (a-za)(b-zb) = sum ab - za[m]*colsum[n] - zb[n]*rowsum[m] + K*za[m]*zb[n]     (mod 2^32)
// colsum is computed when B is packed, rowsum by int8_gemm_row_sums (only when some zb[n] != 0).
//
// Layouts: A is row-major [M][lda] (lda >= K). For int8_gemm, packed B is B transposed, [n_padded][ldb]: each
// column of B is one contiguous row, zero beyond K (ldb is a multiple of 16) and zero rows beyond N (n_padded
// is a multiple of NR), so vector loads of B never need bounds checks. int8_gemm_panels (X86_VNNI, at the end
// of this file) and int8_gemm_amx (X86_AMX, amx_gemm.clh) take B in 16-column panels instead.
//
// Build defines:
//   MR, NR                     the register block: each work-item computes MR rows x NR columns of C
//   USE_INTEGER_DOT_PRODUCT    use cl_khr_integer_dot_product's dot(char4, char4) (emulated where absent)
//   X86_VNNI                   use vpdpbusd (x86 CPUs with AVX512-VNNI, OpenCL compiled by clang: PoCL)
//   X86_AMX                    int8_gemm_amx on Intel AMX tiles (amx_gemm.clh, included at the end; PoCL on a CPU
//                              with amx_tile and amx_int8, in a process Linux gave the tile state)
//   PORTABLE_ONLY              no x86 intrinsics (else vpmaddwd is used where the compiler targets AVX512BW)
//   OFFLOAD_FPGA               FPGA style: single work-item kernels, no x86 intrinsics; each work-item computes
//                              one MR x NR tile of C with fully unrolled inner loops (the portable loop)
//   EPILOGUE_INT32 | EPILOGUE_DEQUANTIZE | EPILOGUE_REQUANTIZE
//   ACTIVATION_NONE | ACTIVATION_RELU | ACTIVATION_GELU_ERF | ACTIVATION_GELU_TANH | ACTIVATION_SILU |
//   ACTIVATION_GELU_ERF_ONNX   (the last one built with -cl-fp32-correctly-rounded-divide-sqrt)
//   HAS_BIAS                   (dequantize only) add bias[n]
// Signed overflow is undefined in OpenCL C, so every sum that may wrap is done in uint.

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"

// The epilogues, the row-sum kernel and DOT4, shared with int8_gemm_tiled.cl.
#include "int8_gemm.clh"

#ifndef MR
#define MR 4
#endif
#ifndef NR
#define NR 4
#endif

// Clang on x86 with AVX512BW (PoCL's CPU device): LLVM 15 does not form vpmaddwd from portable OpenCL C
// (it widens to int and uses vpmulld, half the throughput), so call it directly. Other devices, or
// -D PORTABLE_ONLY, use the portable loop below.
#if defined(__AVX512BW__) && defined(__clang__) && !defined(USE_INTEGER_DOT_PRODUCT) && !defined(PORTABLE_ONLY) \
        && !defined(X86_VNNI) && !defined(OFFLOAD_FPGA)
#define X86_MADD
typedef short x86_short32 __attribute__((ext_vector_type(32)));

static inline x86_short32 load32(__global const char* p, char16 flip) {
    char16 lo = vload16(0, p) ^ flip, hi = vload16(0, p + 16) ^ flip;
    return __builtin_convertvector(__builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
            14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31), x86_short32);
}
#endif

static inline uint hsum16(uint16 v) {
    uint8 h8 = v.lo + v.hi;
    uint4 h4 = h8.lo + h8.hi;
    uint2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y;
}

// Global size: (n_padded / NR, ceil(M / MR)). Work-items along dimension 0 share the same A rows.
__kernel KERNEL_SHAPE void int8_gemm(INT8_GEMM_PARAMS) {
    const int n0 = get_global_id(0) * NR;
    const int m0 = get_global_id(1) * MR;
    if (m0 >= M || n0 >= N) return; // the host may round the global size up to the work-group size

    // Rows past M re-read row M-1 (cheap, branch-free) and are not stored.
    __global const char* arow[MR];
#pragma unroll
    for (int i = 0; i < MR; i++) arow[i] = a + (size_t) min(m0 + i, M - 1) * lda;
    __global const char* brow[NR];
#pragma unroll
    for (int j = 0; j < NR; j++) brow[j] = bt + (size_t) (n0 + j) * ldb;

    const int k16 = K & ~15;
    uint sums[MR][NR];
#if defined(USE_INTEGER_DOT_PRODUCT)
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) sums[i][j] = 0;
    const char16 flip = (char16) ((char) a_flip);
    for (int k = 0; k < k16; k += 16) {
        char16 av[MR], bv[NR];
#pragma unroll
        for (int i = 0; i < MR; i++) av[i] = vload16(0, arow[i] + k) ^ flip;
#pragma unroll
        for (int j = 0; j < NR; j++) bv[j] = vload16(0, brow[j] + k);
#pragma unroll
        for (int i = 0; i < MR; i++)
#pragma unroll
            for (int j = 0; j < NR; j++)
                sums[i][j] += (uint) (DOT4(av[i].s0123, bv[j].s0123) + DOT4(av[i].s4567, bv[j].s4567))
                            + (uint) (DOT4(av[i].s89ab, bv[j].s89ab) + DOT4(av[i].scdef, bv[j].scdef));
    }
#elif defined(X86_MADD)
    // 32 K-elements per step: sign-extend to 32 shorts, vpmaddwd multiplies and adds adjacent pairs into
    // 16 ints. Exact: a pair sum of int8 products is at most 2 * 128 * 128 = 32768, well inside int.
    int16 acc[MR][NR];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) acc[i][j] = (int16) (0);
    const char16 flip = (char16) ((char) a_flip);
    const int k32 = K & ~31;
    for (int k = 0; k < k32; k += 32) {
        x86_short32 av[MR], bv[NR];
#pragma unroll
        for (int i = 0; i < MR; i++) av[i] = load32(arow[i] + k, flip);
#pragma unroll
        for (int j = 0; j < NR; j++) bv[j] = load32(brow[j] + k, (char16) (0));
#pragma unroll
        for (int i = 0; i < MR; i++)
#pragma unroll
            for (int j = 0; j < NR; j++)
                acc[i][j] = as_int16(as_uint16(acc[i][j]) + as_uint16(__builtin_ia32_pmaddwd512(av[i], bv[j])));
    }
    if (k32 < k16) { // one more 16-wide step
        short16 av[MR], bv[NR];
#pragma unroll
        for (int i = 0; i < MR; i++) av[i] = convert_short16(vload16(0, arow[i] + k32) ^ flip);
#pragma unroll
        for (int j = 0; j < NR; j++) bv[j] = convert_short16(vload16(0, brow[j] + k32));
#pragma unroll
        for (int i = 0; i < MR; i++)
#pragma unroll
            for (int j = 0; j < NR; j++)
                acc[i][j] = as_int16(as_uint16(acc[i][j]) + as_uint16(convert_int16(av[i]) * convert_int16(bv[j])));
    }
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) sums[i][j] = hsum16(as_uint16(acc[i][j]));
#else
    // 16 lanes along K per accumulator; products of two int8 values are exact in int.
    int16 acc[MR][NR];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) acc[i][j] = (int16) (0);
    const char16 flip = (char16) ((char) a_flip);
    for (int k = 0; k < k16; k += 16) {
        short16 av[MR], bv[NR];
#pragma unroll
        for (int i = 0; i < MR; i++) av[i] = convert_short16(vload16(0, arow[i] + k) ^ flip);
#pragma unroll
        for (int j = 0; j < NR; j++) bv[j] = convert_short16(vload16(0, brow[j] + k));
#pragma unroll
        for (int i = 0; i < MR; i++)
#pragma unroll
            for (int j = 0; j < NR; j++)
                acc[i][j] = as_int16(as_uint16(acc[i][j]) + as_uint16(convert_int16(av[i]) * convert_int16(bv[j])));
    }
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) sums[i][j] = hsum16(as_uint16(acc[i][j]));
#endif
    // The last K % 16 elements.
    for (int k = k16; k < K; k++) {
#pragma unroll
        for (int i = 0; i < MR; i++) {
            const int x = (char) (arow[i][k] ^ a_flip);
#pragma unroll
            for (int j = 0; j < NR; j++) sums[i][j] += (uint) (x * brow[j][k]);
        }
    }

    // Epilogue: zero-point correction, then the selected output conversion.
#pragma unroll
    for (int i = 0; i < MR; i++) {
        const int m = m0 + i;
        if (m >= M) break;
        const uint zam = (uint) (za[m * za_stride] - za_shift);
        const uint rs = use_rowsum ? (uint) rowsum[m] : 0u;
#pragma unroll
        for (int j = 0; j < NR; j++) {
            const int n = n0 + j;
            if (n >= N) break;
            const uint zbn = (uint) zb[n];
            const int c = (int) (sums[i][j] - zam * (uint) colsum[n] - zbn * rs + (uint) K * zam * zbn);
            store1(c, m, n, N, EPILOGUE_ARGS);
        }
    }
}

// ---- AVX512-VNNI variant (-D X86_VNNI): B in panels, C computed in 16-column vectors ------------------------
// vpdpbusd multiplies 64 unsigned by 64 signed bytes and adds each group of four products into one of 16 ints
// (wrapping). PoCL 3.1's LLVM 15 targets skylake-avx512, which lacks VNNI, so only vnni_panels is compiled for
// it; the host passes -D X86_VNNI only for PoCL on a CPU that reports avx512_vnni.
//
// Packed B: panels of 16 columns, [n_padded / 16][ceil(K / 4)][16 columns][4 k], zero-padded; ldb is the
// panel stride in bytes. One 64-byte load holds 4 k-values of 16 columns; one A row's 4 k-values are
// broadcast. A is made unsigned (signed-domain value + 128, i.e. xor 0x80); the 128 * colsum[n] this adds
// is taken out with the zero points. NR is a multiple of 16; MR rows x NR/16 vectors accumulate.
#if defined(X86_VNNI) && defined(__clang__) && defined(__x86_64__) && !defined(OFFLOAD_FPGA)
#define NV (NR / 16)

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void vnni_panels(__global const char* const* arow, __global const char* bp, const int panel_stride,
                        const int K, const int a_mask, int16* result) {
    int16 acc[MR][NV];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int v = 0; v < NV; v++) acc[i][v] = (int16) (0);
    const int quads = K >> 2;
    const uint mask = (uint) (a_mask & 0xFF) * 0x01010101u;
    // One K-quad: NV 64-byte loads of B, then per A row a 4-byte broadcast and NV vpdpbusd.
#define VNNI_QUAD(A_WORD)                                                                                         \
    {                                                                                                             \
        int16 b[NV];                                                                                              \
        _Pragma("unroll") for (int v = 0; v < NV; v++)                                                            \
            b[v] = vload16(0, (__global const int*) (bp + (size_t) v * panel_stride + q * 64));                   \
        _Pragma("unroll") for (int i = 0; i < MR; i++) {                                                          \
            const int16 a4 = (int16) (A_WORD);                                                                    \
            _Pragma("unroll") for (int v = 0; v < NV; v++) acc[i][v] = __builtin_ia32_vpdpbusd512(acc[i][v], a4, b[v]); \
        }                                                                                                         \
    }
    // uint8 A (the common case: DynamicQuantizeLinear output) needs no flip. A loop of its own lets LLVM broadcast
    // straight from memory (vpbroadcastd m32) instead of load -> GPR -> xor -> broadcast, which measured as the
    // bottleneck of the inner loop (22 instructions per 8 vpdpbusd with the xor in place).
    if (mask == 0u) {
        for (int q = 0; q < quads; q++) VNNI_QUAD(as_int(vload4(0, (__global const uchar*) arow[i] + 4 * q)))
    } else {
        for (int q = 0; q < quads; q++) VNNI_QUAD(as_int(as_uint(vload4(0, (__global const uchar*) arow[i] + 4 * q)) ^ mask))
    }
#undef VNNI_QUAD
    const int rest = K & 3;
    if (rest) { // the last partial quad: A bytes past K are 0 (and B is zero-padded there)
        int16 b[NV];
#pragma unroll
        for (int v = 0; v < NV; v++) b[v] = vload16(0, (__global const int*) (bp + (size_t) v * panel_stride + quads * 64));
#pragma unroll
        for (int i = 0; i < MR; i++) {
            uint a = 0;
            for (int t = 0; t < rest; t++) a |= (uint) ((uchar) arow[i][4 * quads + t] ^ (uchar) a_mask) << (8 * t);
            const int16 a4 = (int16) (as_int(a));
#pragma unroll
            for (int v = 0; v < NV; v++) acc[i][v] = __builtin_ia32_vpdpbusd512(acc[i][v], a4, b[v]);
        }
    }
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int v = 0; v < NV; v++) result[i * NV + v] = acc[i][v];
}

// The MR x NR block of C at (m0, n0): the body of int8_gemm_panels and of int8_gemm_panels_group.
static inline void panels_block(INT8_GEMM_PARAMS, const int m0, const int n0) {
    if (m0 >= M || n0 >= N) return;
    __global const char* arow[MR];
#pragma unroll
    for (int i = 0; i < MR; i++) arow[i] = a + (size_t) min(m0 + i, M - 1) * lda;
    int16 acc[MR][NV];
    vnni_panels(arow, bt + (size_t) (n0 / 16) * ldb, ldb, K, a_flip ^ 0x80, &acc[0][0]);

    const uint16 kk = (uint16) ((uint) K);
#pragma unroll
    for (int v = 0; v < NV; v++) {
        const int n = n0 + 16 * v;
        if (n >= N) break;
        const uint16 cs = as_uint16(vload16(0, colsum + n));  // colsum and zb are padded to n_padded
        const uint16 zbn = as_uint16(vload16(0, zb + n));
#pragma unroll
        for (int i = 0; i < MR; i++) {
            const int m = m0 + i;
            if (m >= M) break;
            const uint zam = (uint) (za[m * za_stride] - za_shift);
            const uint rs = use_rowsum ? (uint) rowsum[m] : 0u;
            const uint16 c = as_uint16(acc[i][v]) - (128u + zam) * cs - zbn * rs + kk * zam * zbn;
            store16(as_int16(c), m, n, N, EPILOGUE_ARGS);
        }
    }
}

// The arguments: int8_gemm.clh (bt in panels, ldb the panel stride); global size (n_padded / NR, ceil(M / MR)).
__kernel KERNEL_SHAPE void int8_gemm_panels(INT8_GEMM_PARAMS) {
    panels_block(a, lda, a_flip, za, za_stride, za_shift, bt, ldb, zb, colsum, rowsum, use_rowsum, M, N, K, EPILOGUE_ARGS,
                 get_global_id(1) * MR, get_global_id(0) * NR);
}

#if defined(EPILOGUE_DEQUANTIZE)
// int8_gemm_panels_group: two or three weights of one A (an encoder layer's Q, K and V), each with its own packed B,
// zero points, scales, bias and output (N2 = 0: two), in one launch. Dimension 0 runs over weight 0's blocks0
// column blocks, then weight 1's blocks1, then weight 2's; dimension 1 over A's row blocks. A work-item computes
// exactly what int8_gemm_panels's would for the same block of its weight, so each output is that kernel's bit for
// bit, with one launch instead of three (on PoCL each launch boundary costs tens of microseconds while a worker
// wakes: docs/cpu-speed.md). The weights share K, so their panel stride ldb; rowsum (A's, when any weight has zero
// points) is shared too. Global size: (blocks0 + blocks1 + blocks2, rounded up to the local size; ceil(M / MR)).
#define GROUP_PART_PARAMS(i) __global const char* bt##i, __global const int* zb##i, __global const int* colsum##i, \
                             const int use_rowsum##i, const int N##i, __global const float* sb##i, __global const float* bias##i, \
                             __global float* out##i
__kernel KERNEL_SHAPE void int8_gemm_panels_group(__global const char* a, const int lda, const int a_flip, __global const int* za,
                                                  const int za_stride, const int za_shift, const int ldb, __global const int* rowsum,
                                                  const int M, const int K, __global const float* sa, const int sa_stride,
                                                  const int blocks0, const int blocks1,
                                                  GROUP_PART_PARAMS(0), GROUP_PART_PARAMS(1), GROUP_PART_PARAMS(2)) {
    const int b = get_global_id(0);
    const int part = b < blocks0 ? 0 : b < blocks0 + blocks1 ? 1 : 2;
    // One call on the chosen weight's pointers (not one inlined copy of the block per weight).
#define GROUP_PICK(name) (part == 0 ? name##0 : part == 1 ? name##1 : name##2)
    panels_block(a, lda, a_flip, za, za_stride, za_shift, GROUP_PICK(bt), ldb, GROUP_PICK(zb), GROUP_PICK(colsum), rowsum,
                 GROUP_PICK(use_rowsum), M, GROUP_PICK(N), K, sa, sa_stride, GROUP_PICK(sb), GROUP_PICK(bias), GROUP_PICK(out),
                 get_global_id(1) * MR, (b - (part == 0 ? 0 : part == 1 ? blocks0 : blocks0 + blocks1)) * NR);
#undef GROUP_PICK
}
#undef GROUP_PART_PARAMS
#endif   // EPILOGUE_DEQUANTIZE
#endif

#include "amx_gemm.clh"
