// Block-quantized linear (ggml Q8_0 / Q4_0 weights x per-block int8 activations). Host side:
// dev.offload.ops.blockq.BlockMatmul; judge: BlockLinearReference, within the bound of BlockLinearBound.
//
//   y[m, n] = bias[n] + sum_b (float) (sum_i qx[m, 32b + i] * qw[n, 32b + i]) * (dx[m, b] * dw[n, b])
//
// x is int8 [M][K] with float scales dx [M][K/32] (a per-block int8 quantize's outputs); y is float [M][N].
//
// The weight's device layout (made from ggml's blocks by blockq_relayout, below; the same bytes, rearranged, so a
// resident weight is exactly as large as the file's tensor). Row n keeps its nb = K/32 blocks in
// R = nb * (2 + QB) bytes at n * R, as ggml does, but splits them: first the quantized values of all its blocks,
// then their nb fp16 scales (2 bytes each). The values come in groups of 4 blocks, then the nb % 4 last blocks:
//   Q8_0 group (128 bytes): [b0 q0..15][b1 q0..15][b2 q0..15][b3 q0..15][b0 q16..31][b1 q16..31][b2 ..][b3 ..]
//   Q4_0 group (64 bytes):  [b0 qs][b1 qs][b2 qs][b3 qs]  (ggml's own nibbles: byte j = element j | element j+16 << 4)
//   the last nb % 4 blocks: their values in ggml's order (QB bytes each)
// So one 64-byte vector of a group holds 16 values of each of 4 blocks (Q4_0: its low and its high nibbles), in
// the same order for both formats, and an x vector permuted the same way meets it lane for lane: each 32-bit lane
// of a dot-product instruction then sums 4 products of one block, and 4 lanes make a block.
//
// Build defines:
//   BLOCK_Q8_0 | BLOCK_Q4_0     the weight format
//   MR, NR                      the register block: each work-item computes MR rows of x times NR rows of W
//   HAS_BIAS                    add bias[n]
//   X86_VNNI                    the groups through vpdpbusd (AVX512-VNNI; PoCL on a host CPU that has it)
//   OFFLOAD_FPGA                FPGA style (offload.clh): single work-item work-groups, no x86 built-ins
// Without X86_VNNI every block is summed exactly in int and accumulated in the reference's own order, so the
// portable kernel (and the FPGA style) gives the reference's floats bit for bit; with it, each lane accumulates
// in float across groups and the lanes are added at the end (the bound in BlockLinearBound covers both).

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"

// The reference rounds every product and sum on its own: no contraction into fused multiply-adds.
#pragma OPENCL FP_CONTRACT OFF

#if defined(BLOCK_Q4_0)
#define QB 16
#else
#define QB 32
#endif
#define GROUP_BYTES (4 * QB)
#ifndef MR
#define MR 1
#endif
#ifndef NR
#define NR 4
#endif

// ---- Relayout: ggml's blocks -> the device layout above. Global (nb, rows); one work-item per block. --------
__kernel KERNEL_SHAPE void blockq_relayout(__global const uchar* src, const int nb, const int rows, __global uchar* dst) {
    const int b = get_global_id(0), r = get_global_id(1);
    if (b >= nb || r >= rows) return;
    const size_t row = (size_t) r * nb * (2 + QB);
    __global const uchar* block = src + row + (size_t) b * (2 + QB);
    dst[row + (size_t) nb * QB + 2 * b] = block[0];
    dst[row + (size_t) nb * QB + 2 * b + 1] = block[1];
    const int grouped = b < (nb & ~3);
#if defined(BLOCK_Q4_0)
    // Groups keep ggml's nibble bytes, block after block: the same place as without groups.
    vstore16(vload16(0, block + 2), 0, dst + row + (size_t) b * 16);
    (void) grouped;
#else
    const size_t lo = grouped ? (size_t) (b >> 2) * 128 + (b & 3) * 16 : (size_t) b * 32;
    const size_t hi = lo + (grouped ? 64 : 16);
    vstore16(vload16(0, block + 2), 0, dst + row + lo);
    vstore16(vload16(0, block + 18), 0, dst + row + hi);
#endif
}

// Block b of a weight row in element order: values 0..15 in lo, 16..31 in hi.
static inline void weight_block(__global const uchar* row, const int nb, const int b, char16* lo, char16* hi) {
#if defined(BLOCK_Q4_0)
    const uchar16 q = vload16(0, row + (size_t) b * 16);
    *lo = as_char16(q & (uchar16) 0x0F) - (char16) 8;
    *hi = as_char16(q >> (uchar16) 4) - (char16) 8;
#else
    const int grouped = b < (nb & ~3);
    const size_t at = grouped ? (size_t) (b >> 2) * 128 + (b & 3) * 16 : (size_t) b * 32;
    *lo = as_char16(vload16(0, row + at));
    *hi = as_char16(vload16(0, row + at + (grouped ? 64 : 16)));
#endif
}

// The exact integer dot product of two 16-value halves (int8 products fit in short; their sum needs int).
static inline int dot16(const char16 a, const char16 b) {
    const int16 p = convert_int16(convert_short16(a) * convert_short16(b));
    const int8 h8 = p.lo + p.hi;
    const int4 h4 = h8.lo + h8.hi;
    const int2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y;
}

#if defined(X86_VNNI) && defined(__clang__) && defined(__x86_64__) && !defined(OFFLOAD_FPGA)
#define USE_VNNI_GROUPS

// Lane l of 4 values per block -> 16 lanes: (d0 d0 d0 d0 d1 d1 d1 d1 d2 ... d3).
static inline float16 per_block_lanes(const float4 d) {
    return __builtin_shufflevector(d, d, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
}

// The 4-block groups of an MR x NR tile: vpdpbusd multiplies unsigned by signed bytes, so the weights go in
// unsigned: Q8_0 as q + 128 (q ^ 0x80), Q4_0 as its bare nibbles (0..15), and what that adds to each lane,
// c * (sum of its 4 x values) with c = 128 or 8, is taken out by starting the lane's sum at minus that (computed
// once per x row and group). Each lane's exact integer sum is converted, scaled by its block's dx * dw and added
// into a float lane; acc[i][j] holds 16 lanes for row i of x and row j of W.
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void vnni_groups(__global const char* const* xrow, __global const float* const* dxrow,
                        __global const uchar* const* wrow, __global const half* const* wd, const int groups,
                        float16* result) {
#if defined(BLOCK_Q4_0)
    const int16 offset = (int16) (0x08080808);
#else
    const int16 offset = (int16) (0x80808080);
#endif
    float16 acc[MR][NR];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) acc[i][j] = (float16) (0.0f);
    for (int g = 0; g < groups; g++) {
        int16 x1[MR], x2[MR], start[MR];
        float16 dx[MR];
#pragma unroll
        for (int i = 0; i < MR; i++) {
            // x's 128 bytes are 4 blocks in order; regroup their 16-byte halves as the weights lie.
            const int16 a = vload16(0, (__global const int*) (xrow[i] + 128 * g));
            const int16 b = vload16(0, (__global const int*) (xrow[i] + 128 * g + 64));
            x1[i] = __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
            x2[i] = __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
            start[i] = -__builtin_ia32_vpdpbusd512(__builtin_ia32_vpdpbusd512((int16) (0), offset, x1[i]), offset, x2[i]);
            dx[i] = per_block_lanes(vload4(g, dxrow[i]));
        }
#pragma unroll
        for (int j = 0; j < NR; j++) {
#if defined(BLOCK_Q4_0)
            const uint16 v = vload16(0, (__global const uint*) (wrow[j] + 64 * g));
            const int16 w1 = as_int16(v & (uint16) 0x0F0F0F0Fu), w2 = as_int16((v >> 4) & (uint16) 0x0F0F0F0Fu);
#else
            const int16 w1 = vload16(0, (__global const int*) (wrow[j] + 128 * g)) ^ offset;
            const int16 w2 = vload16(0, (__global const int*) (wrow[j] + 128 * g + 64)) ^ offset;
#endif
            const float16 dw = per_block_lanes(vload_half4(g, wd[j]));
#pragma unroll
            for (int i = 0; i < MR; i++) {
                const int16 s = __builtin_ia32_vpdpbusd512(__builtin_ia32_vpdpbusd512(start[i], w1, x1[i]), w2, x2[i]);
                acc[i][j] = fma(convert_float16(s), dx[i] * dw, acc[i][j]);
            }
        }
    }
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) result[i * NR + j] = acc[i][j];
}

static inline float hsum16(const float16 v) {
    const float8 h8 = v.lo + v.hi;
    const float4 h4 = h8.lo + h8.hi;
    const float2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y;
}
#endif

// Global size (ceil(M / MR), ceil(N / NR)): work-items next to each other along dimension 0 read the same NR rows of
// W for different rows of x, so a work-group's weights are read from memory once and reused from the cache.
__kernel KERNEL_SHAPE void blockq_linear(__global const char* x, __global const float* dx, const int M, const int K,
                                         __global const uchar* w, const int N, __global const float* bias,
                                         __global float* y) {
    const int m0 = get_global_id(0) * MR, n0 = get_global_id(1) * NR;
    if (m0 >= M || n0 >= N) return;   // the host may round the global size up to the work-group size
    const int nb = K / 32;
    const size_t row_bytes = (size_t) nb * (2 + QB);

    // Rows past M or N re-read the last one (branch-free loads) and are not stored.
    __global const char* xrow[MR];
    __global const float* dxrow[MR];
#pragma unroll
    for (int i = 0; i < MR; i++) {
        const int m = min(m0 + i, M - 1);
        xrow[i] = x + (size_t) m * K;
        dxrow[i] = dx + (size_t) m * nb;
    }
    __global const uchar* wrow[NR];
    __global const half* wd[NR];
#pragma unroll
    for (int j = 0; j < NR; j++) {
        wrow[j] = w + (size_t) min(n0 + j, N - 1) * row_bytes;
        wd[j] = (__global const half*) (wrow[j] + (size_t) nb * QB);
    }

    float acc[MR][NR];
    int first = 0;   // the first block the loop below sums (the VNNI groups come before it)
#ifdef USE_VNNI_GROUPS
    float16 lanes[MR * NR];
    vnni_groups(xrow, dxrow, wrow, wd, nb >> 2, lanes);
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) acc[i][j] = hsum16(lanes[i * NR + j]);
    first = nb & ~3;
#else
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) acc[i][j] = 0.0f;
#endif
    // Block by block: the exact integer sum, then acc + (float) s * (dx * dw), the reference's own order.
    for (int b = first; b < nb; b++) {
        char16 xlo[MR], xhi[MR];
        float xd[MR];
#pragma unroll
        for (int i = 0; i < MR; i++) {
            xlo[i] = vload16(0, xrow[i] + 32 * b);
            xhi[i] = vload16(0, xrow[i] + 32 * b + 16);
            xd[i] = dxrow[i][b];
        }
#pragma unroll
        for (int j = 0; j < NR; j++) {
            char16 wlo, whi;
            weight_block(wrow[j], nb, b, &wlo, &whi);
            const float d = vload_half(b, wd[j]);
#pragma unroll
            for (int i = 0; i < MR; i++) {
                const int s = dot16(xlo[i], wlo) + dot16(xhi[i], whi);
                acc[i][j] = acc[i][j] + (float) s * (xd[i] * d);
            }
        }
    }
#pragma unroll
    for (int i = 0; i < MR; i++) {
        const int m = m0 + i;
        if (m >= M) break;
#pragma unroll
        for (int j = 0; j < NR; j++) {
            const int n = n0 + j;
            if (n >= N) break;
#ifdef HAS_BIAS
            y[(size_t) m * N + n] = acc[i][j] + bias[n];
#else
            y[(size_t) m * N + n] = acc[i][j];
#endif
        }
    }
}
