// Block-quantized linear (ggml Q8_0 / Q4_0 / Q4_K / Q6_K weights x per-block int8 activations). Host side:
// dev.offload.ops.blockq.BlockMatmul; judge: BlockLinearReference, within the bound of BlockLinearBound.
//
//   y[m, n] = bias[n] + sum_b (float) (sum_i qx[m, 32b + i] * qw[n, 32b + i]) * (dx[m, b] * dw[n, b])
//
// x is int8 [M][K] with float scales dx [M][K/32] (a per-block int8 quantize's outputs); y is float [M][N].
//
// ---- The weight's device layout -------------------------------------------------------------------------
// Made from ggml's blocks by blockq_relayout (below): the same bytes rearranged, so a resident weight is exactly as
// large as the file's tensor. A row has nb = K/32 blocks of 2 + QB bytes (QB = 32 for Q8_0, 16 for Q4_0): R bytes.
// The first P = N/16 groups of 16 rows are panels; the last N % 16 rows are tail rows. Each keeps ggml's place
// (panel p: bytes [16 p R, 16 (p+1) R); tail row n: [n R, (n+1) R)), rearranged inside:
//
//   panel: for each block b, 16 * QB bytes of values, then for each block b its 16 rows' fp16 scales (32 bytes).
//     Q8_0 values of block b (512 bytes): 8 vectors of 64 bytes; vector q holds k = 4q..4q+3 of the 16 rows,
//       [row 0: 4 bytes][row 1: 4 bytes]...[row 15], each value stored as q + 128 (q ^ 0x80, unsigned).
//     Q4_0 values of block b (256 bytes): 4 vectors of 64 bytes; byte 4r + u of vector t holds row r's
//       k = 4t + u in its low nibble and k = 16 + 4t + u in its high nibble (ggml's own nibble bytes, regrouped).
//     One vpdpbusd of a vector with a broadcast 4 bytes of x then sums 4 products for each of the 16 rows.
//   tail row: first the values of all its blocks, in groups of 4 blocks, then its nb fp16 scales:
//     Q8_0 group (128 bytes): [b0 q0..15][b1 q0..15][b2 q0..15][b3 q0..15][b0 q16..31][b1 q16..31][b2 ..][b3 ..]
//     Q4_0 group (64 bytes):  [b0 qs][b1 qs][b2 qs][b3 qs]  (ggml's nibble bytes: byte j = element j | element j+16 << 4)
//     the last nb % 4 blocks: their values in ggml's order (QB bytes each)
//     A 64-byte vector of a group holds 16 values of each of 4 blocks, and x's 128 bytes, permuted alike, meet it
//     lane for lane (4 lanes per block).
//
// (Q4_K and Q6_K have panels of their own: see "K-quants" below.)
//
// Build defines:
//   BLOCK_Q8_0 | BLOCK_Q4_0 | BLOCK_Q4_K | BLOCK_Q6_K     the weight format
//   MR                          rows of x per work-item
//   NP                          panels (16 weight rows each) per work-item; tail work-items take NT = 4 tail rows
//   HAS_BIAS                    add bias[n]
//   HAS_RESIDUAL                add residual[m, n] to the result (a residual connection: residual + (x W^T + bias),
//                               the float sum an add after the product would make, in one launch)
//   X_SUMS                      (with X86_VNNI) read each x block's correction (K-quants: its two half sums) from
//                               blockq_x_sums' output instead of computing it in every work-item (the prefill form:
//                               many work-items share a row)
//   X86_VNNI                    sum through vpdpbusd (AVX512-VNNI; PoCL on a host CPU that has it)
//   X86_AMX, AMX_MR             (with X86_VNNI, NP = 2, Q8_0 with X_SUMS or Q4_0 without) panel tiles of AMX_MR =
//                               16 rows of x on Intel AMX tiles (amx_blockq.clh); a work-item then takes AMX_MR rows
//                               of x, its tail tiles MR rows at a time
//   OFFLOAD_FPGA                FPGA style (offload.clh): single work-item work-groups, no x86 built-ins
// Without X86_VNNI every block is summed exactly in int and accumulated in the reference's own order, so the
// portable kernel (and the FPGA style) gives the reference's floats bit for bit. With it, a panel accumulates
// one float lane per weight row in block order, acc + (float) s * (dx * d) with no fused multiply-add: the
// reference's own steps, so panel rows are bit-exact too. A tail row accumulates one lane per 4-value slice of a
// block (in group order, the lanes added at the end), which BlockLinearBound covers.

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"

// The reference rounds every product and sum on its own: no contraction into fused multiply-adds.
#pragma OPENCL FP_CONTRACT OFF

#if defined(BLOCK_Q4_0)
#define QB 16
#else
#define QB 32
#endif
#ifndef MR
#define MR 1
#endif
#ifndef NP
#define NP 1
#endif
#define NT 4

// A decode tile (MR <= 4 rows of x, each work-item its own x corrections: no X_SUMS) reads every weight byte once,
// from DRAM, in 2 * NP streams per work-item (each panel's values and its scales). With -D PREFETCH_BLOCKS=n the
// VNNI paths ask for each panel's bytes n blocks ahead, which on the Intel Xeon keeps more misses in flight than its
// hardware prefetchers do (2026-12-03, weights in 24 copies: Q4_0 1x2048x16384 0.725 -> 0.636 ms, Q8_0 1.206 ->
// 1.135 ms); on the AMD EPYC (Zen 5) the hardware prefetchers alone are faster. The host chooses per device
// (BlockMatmul.decodePrefetchBlocks; docs/cpu-speed.md) and passes it for decode tiles only: prefill tiles (X_SUMS,
// or 8 and 16 rows of x) reuse each block for every row of x and are not bound by the stream.
#ifndef PREFETCH_BLOCKS
#define PREFETCH_BLOCKS 0
#endif
// Prefetch the cache lines of BYTES bytes from global pointer P (a multiple of 64 bytes from a 64-byte boundary,
// or less than one line).
#define PREFETCH_LINES(P, BYTES)                                                                                 \
    _Pragma("unroll") for (int line_ = 0; line_ < (BYTES); line_ += 64) __builtin_prefetch((const void*) ((size_t) (P) + line_))

// What is stored at y[at] for a result v: with HAS_RESIDUAL residual[at] + v, as an Add node after the product does.
#ifdef HAS_RESIDUAL
#define WITH_RESIDUAL(at, v) (residual[at] + (v))
#else
#define WITH_RESIDUAL(at, v) (v)
#endif

// The MR activation rows from m0 and their per-block scales; rows past M repeat the last real row (not stored).
static inline void activation_rows(__global const char* x, __global const float* dx, const int m0, const int M, const int K,
                                   __global const char** xrow, __global const float** dxrow) {
#pragma unroll
    for (int i = 0; i < MR; i++) {
        const int m = min(m0 + i, M - 1);
        xrow[i] = x + (size_t) m * K;
        dxrow[i] = dx + (size_t) m * (K / 32);
    }
}

// Stores acc[i][j] (+ bias) for the tile's real rows: m0 + i < M, n_of(j) < row_end (every format).
#define STORE_TILE(COUNT, ROW_OF, ACC)                                                                            \
    _Pragma("unroll") for (int i = 0; i < MR; i++) {                                                             \
        if (m0 + i >= M) break;                                                                                  \
        for (int j = 0; j < (COUNT); j++) {                                                                      \
            const int n = (ROW_OF(j));                                                                           \
            if (n >= row_end) break;                                                                             \
            const size_t at = (size_t) (m0 + i) * N + n;                                                         \
            y[at] = WITH_RESIDUAL(at, ACC[i][j] + BIAS(n));                                                      \
        }                                                                                                        \
    }
#ifdef HAS_BIAS
#define BIAS(n) bias[n]
#else
#define BIAS(n) 0.0f
#endif

// The tiles of one weight of N rows: panel tiles of NP panels, then tail tiles of NT rows.
static inline int weight_tiles(const int N) {
    const int panels = N / 16;
    return (panels + NP - 1) / NP + (N - 16 * panels + NT - 1) / NT;
}

// The NP panels of the panel tile from panel p0 (past the last panel: the last one again, not stored), and the
// x-sums rows (per_row ints each) of the MR rows of x from m0: the VNNI panel kernels' inputs, every format.
static inline void panel_tile_inputs(__global const uchar* w, const size_t row_bytes, const int p0, const int panels,
                                     __global const int* x_sums, const int per_row, const int m0, const int M,
                                     __global const uchar** panel, __global const int** xsum) {
#pragma unroll
    for (int p = 0; p < NP; p++) panel[p] = w + (size_t) min(p0 + p, panels - 1) * 16 * row_bytes;
#pragma unroll
    for (int i = 0; i < MR; i++) xsum[i] = x_sums + (size_t) min(m0 + i, M - 1) * per_row;
}

// lanes[i * NP + p] (16 weight rows of panel p, row i of x) into acc[i][16 * p ..] of a [MR][16 * NP] tile.
static inline void lanes_to_tile(const float16* lanes, float* acc) {
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int p = 0; p < NP; p++) vstore16(lanes[i * NP + p], 0, acc + (size_t) i * 16 * NP + 16 * p);
}

#if defined(BLOCK_Q4_K) || defined(BLOCK_Q6_K)
// ---- K-quants: ggml's 256-value super-blocks, rearranged into panels of 16 rows ------------------------------
// The weight is exactly as large as the file's tensor: R = nsb * SB_BYTES bytes a row (nsb = K / 256 super-blocks).
// As for Q8_0 / Q4_0, the first P = N / 16 groups of 16 rows are panels, the last N % 16 rows tail rows, each at
// ggml's place; a tail row keeps ggml's bytes as they are, a panel is rearranged inside (made by blockq_relayout):
//
//   Q4_K panel (16 R = 2304 nsb bytes):
//     [0, 2048 nsb)        per 32-value block b, 4 vectors of 64 bytes: byte 4r + u of vector t holds row r's
//                          value 4t + u in its low nibble and 16 + 4t + u in its high nibble (Q4_0's panel form)
//     [2048 nsb, +192 nsb) per super-block, ggml's 12 packed scale bytes as 12 planes of 16: plane i holds byte i
//                          of rows 0..15 (so 16 rows' 6-bit scales and mins unpack as one vector each)
//     [2240 nsb, +64 nsb)  per super-block, the 16 rows' fp16 d, then their 16 fp16 dmin
//   Q6_K panel (16 R = 3360 nsb bytes):
//     [0, 3072 nsb)        per block b, 384 bytes: 4 vectors of the values' low 4 bits laid out as Q4_K's, then 2
//                          vectors of their high 2 bits: byte 4r + u of the first holds those of row r's values
//                          4t + u at bits 2t, 2t + 1 (t = 0..3), the second those of 16 + 4t + u
//     [3072 nsb, +256 nsb) per block b, the 16 rows' int8 scales of values 0..15, then those of 16..31
//     [3328 nsb, +32 nsb)  per super-block, the 16 rows' fp16 d
// One vpdpbusd of a value vector with a broadcast 4 bytes of x then sums 4 products for each of 16 rows, as for
// Q4_0, so a decode work-item streams its panels once, with no per-row unpacking or horizontal sums.
//
// Every path computes, per weight row and block b (32 values, one or two integer scales, Q4_K a min), in
// BlockLinearReference's order with no contraction (fma only where written), so the result is the reference's bit
// for bit:
//   Q6_K: acc = acc + (float) (sc_lo * lo + sc_hi * hi) * (dx * d)     lo, hi: the halves' exact integer dots
//   Q4_K: acc = fma((float) (lo + hi), dx * (d * sc), acc)             d * sc, dmin * mn: exact in float
//         acc = fma(-(dx * (float) sum x), dmin * mn, acc)             block after block
// With VNNI a panel's 16 rows are 16 lanes of one vector; the portable path (and the tail rows everywhere) takes a
// row at a time. Q6_K's stored values are q + 32: the 32 * scale * (sum x) this adds is taken out of the integer dot.
#if defined(BLOCK_Q4_K)
#define SB_BYTES 144
#define VALUE_BYTES 256     // a panel's bytes of values per block
#define KQ_SCALE_BYTES 192  // a panel's bytes of scale planes per super-block
#else
#define SB_BYTES 210
#define VALUE_BYTES 384
#define KQ_SCALE_BYTES 256
#endif

#if defined(X86_VNNI) && defined(__clang__) && defined(__x86_64__) && !defined(OFFLOAD_FPGA)
#define USE_VNNI
#define KTARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#else
#define KTARGET
#endif

// Q4_K's 6-bit scale and min of sub-block t (0..7) from its 12 packed bytes, SC(i) reading byte i (ggml's packing):
// works on one row's bytes and on 16 rows' planes alike.
#define Q4K_SCALE(SC, t) ((t) < 4 ? (SC(t) & 63) : ((SC((t) + 4) & 0xF) | ((SC((t) - 4) >> 6) << 4)))
#define Q4K_MIN(SC, t) ((t) < 4 ? (SC((t) + 4) & 63) : ((SC((t) + 4) >> 4) | ((SC(t) >> 6) << 4)))

// One 32-value block of a weight row: its values (unsigned, < 64) in two halves, integer scales and float scales.
typedef struct {
    uchar16 lo, hi;
    int scale_lo, scale_hi, min;
    float d, dmin;
} kblock;

// Block t (0..7) of a super-block in ggml's layout at sb. Q4_K: sub-block t's nibbles, the low (t even) or high ones
// of bytes 32 (t / 2) ...; Q6_K: half h = t / 4, run r = t % 4 of it: low or high nibbles of low-bit bytes
// 32 (r % 2) .., bits 2r, 2r + 1 of the high-bit bytes, scales 2r and 2r + 1.
static inline kblock k_block(__global const uchar* sb, const int t) {
    kblock k;
#if defined(BLOCK_Q4_K)
    __global const uchar* sc = sb + 4;
#define ROW_SC(i) sc[i]
    k.d = vload_half(0, (__global const half*) sb);
    k.dmin = vload_half(1, (__global const half*) sb);
    k.scale_lo = k.scale_hi = Q4K_SCALE(ROW_SC, t);
    k.min = Q4K_MIN(ROW_SC, t);
#undef ROW_SC
    __global const uchar* qs = sb + 16 + 32 * (t >> 1);
    const uchar16 shift = (uchar16) (4 * (t & 1));
    k.lo = (vload16(0, qs) >> shift) & (uchar16) 0x0F;
    k.hi = (vload16(1, qs) >> shift) & (uchar16) 0x0F;
#else
    const int h = t >> 2, r = t & 3;
    __global const uchar* ql = sb + 64 * h + 32 * (r & 1);
    __global const uchar* qh = sb + 128 + 32 * h;
    __global const char* sc = (__global const char*) (sb + 192 + 8 * h + 2 * r);
    k.d = vload_half(0, (__global const half*) (sb + 208));
    k.dmin = 0.0f;
    k.min = 0;
    k.scale_lo = sc[0];
    k.scale_hi = sc[1];
    const uchar16 nibble = (uchar16) (4 * (r >> 1)), high = (uchar16) (2 * r);
    k.lo = ((vload16(0, ql) >> nibble) & (uchar16) 0x0F) | (((vload16(0, qh) >> high) & (uchar16) 3) << (uchar16) 4);
    k.hi = ((vload16(1, ql) >> nibble) & (uchar16) 0x0F) | (((vload16(1, qh) >> high) & (uchar16) 3) << (uchar16) 4);
#endif
    return k;
}

// Where a panel's parts start, for nsb super-blocks a row.
static inline size_t panel_scales(const int nsb) { return (size_t) nsb * 8 * VALUE_BYTES; }
#if defined(BLOCK_Q4_K)
static inline size_t panel_d(const int nsb) { return panel_scales(nsb) + (size_t) nsb * 192; }
#else
static inline size_t panel_d(const int nsb) { return panel_scales(nsb) + (size_t) nsb * 256; }
#endif

// Block b of row rr (0..15) of a panel in the layout above: the same kblock k_block gives for ggml's bytes.
static inline kblock k_block_panel(__global const uchar* panel, const int nsb, const int rr, const int b) {
    kblock k;
    const int s = b >> 3, t = b & 7;
    __global const uchar* v = panel + (size_t) b * VALUE_BYTES + 4 * rr;
    const uchar16 nib = (uchar16) (vload4(0, v), vload4(0, v + 64), vload4(0, v + 128), vload4(0, v + 192));
    k.lo = nib & (uchar16) 0x0F;
    k.hi = nib >> (uchar16) 4;
#if defined(BLOCK_Q4_K)
    __global const uchar* planes = panel + panel_scales(nsb) + (size_t) s * 192 + rr;
#define PLANE(i) planes[16 * (i)]
    k.scale_lo = k.scale_hi = Q4K_SCALE(PLANE, t);
    k.min = Q4K_MIN(PLANE, t);
#undef PLANE
    __global const half* d = (__global const half*) (panel + panel_d(nsb) + (size_t) s * 64);
    k.d = vload_half(rr, d);
    k.dmin = vload_half(16 + rr, d);
#else
    const uchar4 h0 = vload4(0, v + 256), h1 = vload4(0, v + 320);
    k.lo |= ((uchar16) (h0, h0 >> (uchar4) 2, h0 >> (uchar4) 4, h0 >> (uchar4) 6) & (uchar16) 3) << (uchar16) 4;
    k.hi |= ((uchar16) (h1, h1 >> (uchar4) 2, h1 >> (uchar4) 4, h1 >> (uchar4) 6) & (uchar16) 3) << (uchar16) 4;
    __global const char* sc = (__global const char*) (panel + panel_scales(nsb) + (size_t) b * 32 + rr);
    k.scale_lo = sc[0];
    k.scale_hi = sc[16];
    k.d = vload_half(rr, (__global const half*) (panel + panel_d(nsb) + (size_t) s * 32));
    k.dmin = 0.0f;
    k.min = 0;
#endif
    return k;
}

// ---- Relayout: ggml's super-blocks -> the layout above. Global (nsb, rows); one work-item per super-block. -----
__kernel KERNEL_SHAPE void blockq_relayout(__global const uchar* src, const int nsb, const int rows, __global uchar* dst) {
    const int s = get_global_id(0), r = get_global_id(1);
    if (s >= nsb || r >= rows) return;
    const size_t row_bytes = (size_t) nsb * SB_BYTES;
    __global const uchar* sb = src + (size_t) r * row_bytes + (size_t) s * SB_BYTES;
    if (r >= rows / 16 * 16) {   // a tail row: ggml's bytes where they were
        for (int i = 0; i < SB_BYTES; i++) dst[(size_t) r * row_bytes + (size_t) s * SB_BYTES + i] = sb[i];
        return;
    }
    const int rr = r % 16;
    __global uchar* panel = dst + (size_t) (r / 16) * 16 * row_bytes;
    for (int t = 0; t < 8; t++) {
        const int b = 8 * s + t;
        const kblock k = k_block(sb, t);
        __global uchar* v = panel + (size_t) b * VALUE_BYTES + 4 * rr;
        const uchar16 nib = (k.lo & (uchar16) 0x0F) | ((k.hi & (uchar16) 0x0F) << (uchar16) 4);
        for (int u = 0; u < 4; u++) vstore4((uchar4) (nib[4 * u], nib[4 * u + 1], nib[4 * u + 2], nib[4 * u + 3]), 0, v + 64 * u);
#if defined(BLOCK_Q6_K)
        const uchar16 lo = k.lo >> (uchar16) 4, hi = k.hi >> (uchar16) 4;   // the high 2 bits
        uchar4 h0 = (uchar4) (0), h1 = (uchar4) (0);
        for (int u = 0; u < 4; u++) {
            h0 |= (uchar4) (lo[4 * u], lo[4 * u + 1], lo[4 * u + 2], lo[4 * u + 3]) << (uchar4) (2 * u);
            h1 |= (uchar4) (hi[4 * u], hi[4 * u + 1], hi[4 * u + 2], hi[4 * u + 3]) << (uchar4) (2 * u);
        }
        vstore4(h0, 0, v + 256);
        vstore4(h1, 0, v + 320);
        __global char* sc = (__global char*) (panel + panel_scales(nsb) + (size_t) b * 32 + rr);
        sc[0] = (char) k.scale_lo;
        sc[16] = (char) k.scale_hi;
#endif
    }
#if defined(BLOCK_Q4_K)
    __global uchar* planes = panel + panel_scales(nsb) + (size_t) s * 192 + rr;
    for (int i = 0; i < 12; i++) planes[16 * i] = sb[4 + i];
    __global uchar* d = panel + panel_d(nsb) + (size_t) s * 64;
    d[2 * rr] = sb[0];
    d[2 * rr + 1] = sb[1];
    d[32 + 2 * rr] = sb[2];
    d[32 + 2 * rr + 1] = sb[3];
#else
    __global uchar* d = panel + panel_d(nsb) + (size_t) s * 32;
    d[2 * rr] = sb[208];
    d[2 * rr + 1] = sb[209];
#endif
}

// sum_i x_i over 16 values.
KTARGET static inline int sum16(const char16 x) {
#ifdef USE_VNNI
    const int4 p = __builtin_ia32_vpdpbusd128((int4) (0), (int4) (0x01010101), as_int4(x));
#else
    const int8 h8 = convert_int8(x.lo) + convert_int8(x.hi);
    const int4 p = h8.lo + h8.hi;
#endif
    const int2 h2 = p.lo + p.hi;
    return h2.x + h2.y;
}

// sc_lo * (w.lo . x.lo) + sc_hi * (w.hi . x.hi), the block's integer sum (w unsigned, < 128; x signed): exact in int.
// With VNNI one vpdpbusd over the 32 bytes leaves lanes 0-3 for the low half and 4-7 for the high one, which are
// scaled in their lanes and added once.
KTARGET static inline int block_dot(const kblock k, const char16 xlo, const char16 xhi) {
#ifdef USE_VNNI
    const int8 w = (int8) (as_int4(k.lo), as_int4(k.hi)), xv = (int8) (as_int4(xlo), as_int4(xhi));
    const int8 p = __builtin_ia32_vpdpbusd256((int8) (0), w, xv) * (int8) ((int4) (k.scale_lo), (int4) (k.scale_hi));
    const int4 h4 = p.lo + p.hi;
#else
    const int16 plo = convert_int16(convert_short16(as_char16(k.lo)) * convert_short16(xlo));
    const int16 phi = convert_int16(convert_short16(as_char16(k.hi)) * convert_short16(xhi));
    const int16 q = plo * k.scale_lo + phi * k.scale_hi;
    const int8 h8 = q.lo + q.hi;
    const int4 h4 = h8.lo + h8.hi;
#endif
    const int2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y;
}

// acc[i * count + j] for rows xrow[i] of x times weight rows n[j] (panel rows below 16 * panels, else tail rows),
// over all nsb super-blocks, one row at a time.
KTARGET static void kquant_rows(__global const char* const* xrow, __global const float* const* dxrow,
                                __global const uchar* w, const int nsb, const int panels, const int* n, const int count,
                                float* acc) {
    const size_t row_bytes = (size_t) nsb * SB_BYTES;
    for (int i = 0; i < MR * count; i++) acc[i] = 0.0f;
    for (int b = 0; b < 8 * nsb; b++) {
        char16 xlo[MR], xhi[MR];
        int xs_lo[MR], xs_hi[MR];
        float xd[MR];
#pragma unroll
        for (int i = 0; i < MR; i++) {
            xlo[i] = vload16(0, xrow[i] + 32 * b);
            xhi[i] = vload16(0, xrow[i] + 32 * b + 16);
            xs_lo[i] = sum16(xlo[i]);
            xs_hi[i] = sum16(xhi[i]);
            xd[i] = dxrow[i][b];
        }
        for (int j = 0; j < count; j++) {
            const kblock k = n[j] < 16 * panels
                    ? k_block_panel(w + (size_t) (n[j] / 16) * 16 * row_bytes, nsb, n[j] % 16, b)
                    : k_block(w + (size_t) n[j] * row_bytes + (size_t) (b >> 3) * SB_BYTES, b & 7);
#if defined(BLOCK_Q4_K)
            kblock unit = k;   // the values' dot alone: the scale goes into d * sc, exact in float
            unit.scale_lo = unit.scale_hi = 1;
            const float dsc = k.d * (float) k.scale_lo, dmn = k.dmin * (float) k.min;
#endif
#pragma unroll
            for (int i = 0; i < MR; i++) {
#if defined(BLOCK_Q4_K)
                const float a = acc[i * count + j];
                const float with_values = fma((float) block_dot(unit, xlo[i], xhi[i]), xd[i] * dsc, a);
                acc[i * count + j] = fma(-(xd[i] * (float) (xs_lo[i] + xs_hi[i])), dmn, with_values);
#else
                int dot = block_dot(k, xlo[i], xhi[i]);
#if defined(BLOCK_Q6_K)
                dot -= 32 * (k.scale_lo * xs_lo[i] + k.scale_hi * xs_hi[i]);   // the stored values are q + 32
#endif
                acc[i * count + j] = acc[i * count + j] + (float) dot * (xd[i] * k.d);
#endif
            }
        }
    }
}

// The half sums of every block of x ([M][K/32][2] ints: values 0..15, 16..31) for X_SUMS: global (K/32, M).
__kernel KERNEL_SHAPE void blockq_x_sums(__global const char* x, const int nb, const int M, __global int* sums) {
    const int b = get_global_id(0), m = get_global_id(1);
    if (b >= nb || m >= M) return;
    __global const char* block = x + (size_t) m * nb * 32 + 32 * b;
    sums[2 * ((size_t) m * nb + b)] = sum16(vload16(0, block));
    sums[2 * ((size_t) m * nb + b) + 1] = sum16(vload16(1, block));
}

#ifdef USE_VNNI
// MR rows of x times NP panels: per block, each panel's 16 rows' integer dots build up in one vector (4 value
// vectors, each met by two broadcast 4 bytes of every x row), are scaled by the rows' integer scales, converted, and
// take the reference's float steps on 16 lanes at once (each lane one weight row, in block order).
// With X_SUMS (the prefill form) each block's two half sums of x come from blockq_x_sums' output, computed once for all
// work-items instead of by each for its rows (they cost as much as the scaling of a 2-panel tile).
KTARGET static void kquant_vnni_panels(__global const char* const* xrow, __global const float* const* dxrow,
                                       __global const int* const* xsum, __global const uchar* const* panel,
                                       const int nsb, float16* result) {
    float16 acc[MR][NP];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int p = 0; p < NP; p++) acc[i][p] = (float16) (0.0f);
    const uint16 low4 = (uint16) (0x0F0F0F0Fu), low2 = (uint16) (0x03030303u);
    for (int s = 0; s < nsb; s++) {
        for (int t = 0; t < 8; t++) {
            const int b = 8 * s + t;
            __global const int* xq[MR];
            int xs_lo[MR], xs_hi[MR];
#pragma unroll
            for (int i = 0; i < MR; i++) {
                xq[i] = (__global const int*) (xrow[i] + 32 * b);
#ifdef X_SUMS
                xs_lo[i] = xsum[i][2 * b];
                xs_hi[i] = xsum[i][2 * b + 1];
#else
                xs_lo[i] = sum16(vload16(0, xrow[i] + 32 * b));
                xs_hi[i] = sum16(vload16(0, xrow[i] + 32 * b + 16));
#endif
            }
            if (PREFETCH_BLOCKS > 0 && b + PREFETCH_BLOCKS < 8 * nsb) {
#pragma unroll
                for (int p = 0; p < NP; p++) {
                    PREFETCH_LINES(panel[p] + (size_t) (b + PREFETCH_BLOCKS) * VALUE_BYTES, VALUE_BYTES);
                    if (t == 0 && s + 1 < nsb) PREFETCH_LINES(panel[p] + panel_scales(nsb) + (size_t) (s + 1) * KQ_SCALE_BYTES, KQ_SCALE_BYTES);
                }
            }
            int16 slo[MR][NP];
#if defined(BLOCK_Q6_K)
            int16 shi[MR][NP];
#endif
#pragma unroll
            for (int i = 0; i < MR; i++)
#pragma unroll
                for (int p = 0; p < NP; p++) {
#if defined(BLOCK_Q6_K)
                    // The stored values are q + 32: each half's dot starts at -32 * (its sum of x), so it ends exact.
                    slo[i][p] = (int16) (-32 * xs_lo[i]);
                    shi[i][p] = (int16) (-32 * xs_hi[i]);
#else
                    slo[i][p] = (int16) (0);
#endif
                }
#pragma unroll
            for (int u = 0; u < 4; u++) {
                int16 wlo[NP], whi[NP];
#pragma unroll
                for (int p = 0; p < NP; p++) {
                    __global const uchar* v = panel[p] + (size_t) b * VALUE_BYTES;
                    const uint16 nib = vload16(0, (__global const uint*) (v + 64 * u));
#if defined(BLOCK_Q6_K)
                    const uint16 h0 = vload16(0, (__global const uint*) (v + 256)), h1 = vload16(0, (__global const uint*) (v + 320));
                    wlo[p] = as_int16((nib & low4) | (((h0 >> (uint) (2 * u)) & low2) << 4));
                    whi[p] = as_int16(((nib >> 4) & low4) | (((h1 >> (uint) (2 * u)) & low2) << 4));
#else
                    wlo[p] = as_int16(nib & low4);
                    whi[p] = as_int16((nib >> 4) & low4);
#endif
                }
#pragma unroll
                for (int i = 0; i < MR; i++) {
                    const int16 xl = (int16) (xq[i][u]), xh = (int16) (xq[i][4 + u]);
#pragma unroll
                    for (int p = 0; p < NP; p++) {
                        slo[i][p] = __builtin_ia32_vpdpbusd512(slo[i][p], wlo[p], xl);
#if defined(BLOCK_Q6_K)
                        shi[i][p] = __builtin_ia32_vpdpbusd512(shi[i][p], whi[p], xh);
#else
                        slo[i][p] = __builtin_ia32_vpdpbusd512(slo[i][p], whi[p], xh);   // Q4_K: one scale for all 32
#endif
                    }
                }
            }
#pragma unroll
            for (int p = 0; p < NP; p++) {
#if defined(BLOCK_Q4_K)
                __global const uchar* planes = panel[p] + panel_scales(nsb) + (size_t) s * 192;
#define PLANE(i) convert_int16(vload16(i, planes))
                const int16 sc = Q4K_SCALE(PLANE, t), mn = Q4K_MIN(PLANE, t);
#undef PLANE
                __global const half* dp = (__global const half*) (panel[p] + panel_d(nsb) + (size_t) s * 64);
                // d * sc and dmin * mn are exact (fp16 times 6 bits), made once for the tile's MR rows of x; each
                // row then takes two fused steps, as the reference.
                const float16 dsc = vload_half16(0, dp) * convert_float16(sc), dmn = vload_half16(1, dp) * convert_float16(mn);
#pragma unroll
                for (int i = 0; i < MR; i++) {
                    const float xd = dxrow[i][b];
                    const float16 with_values = fma(convert_float16(slo[i][p]), xd * dsc, acc[i][p]);
                    acc[i][p] = fma((float16) (-(xd * (float) (xs_lo[i] + xs_hi[i]))), dmn, with_values);
                }
#else
                __global const char* scp = (__global const char*) (panel[p] + panel_scales(nsb) + (size_t) b * 32);
                const int16 sc_lo = convert_int16(vload16(0, scp)), sc_hi = convert_int16(vload16(1, scp));
                const float16 d = vload_half16(0, (__global const half*) (panel[p] + panel_d(nsb) + (size_t) s * 32));
#pragma unroll
                for (int i = 0; i < MR; i++) {
                    const int16 dot = sc_lo * slo[i][p] + sc_hi * shi[i][p];
                    acc[i][p] = acc[i][p] + convert_float16(dot) * (dxrow[i][b] * d);
                }
#endif
            }
        }
    }
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int p = 0; p < NP; p++) result[i * NP + p] = acc[i][p];
}
#endif

#define ITEM_ROWS MR

// Tile `tile` of MR rows of x from m0 (< M): panel tile t takes panels NP t .. NP t + NP - 1, tail tile u tail rows
// 16 P + NT u ... Rows past M, panels past P and rows past N are computed from the last real one and not stored; a
// tile past the weight's stores nothing (the host may round the global size up).
static void linear_tile(__global const char* x, __global const float* dx, const int M, const int K,
                        __global const uchar* w, const int N, __global const float* bias, __global const int* x_sums,
                        __global const float* residual, __global float* y, const int m0, const int tile) {
    const int nsb = K / 256, panels = N / 16;
    const int panel_tiles = (panels + NP - 1) / NP;
    if (tile >= weight_tiles(N)) return;
    __global const char* xrow[MR];
    __global const float* dxrow[MR];
    activation_rows(x, dx, m0, M, K, xrow, dxrow);
    if (tile < panel_tiles) {
        const int p0 = tile * NP, row_end = min(N, 16 * panels), n_first = 16 * p0;
        float acc[MR][16 * NP];
#ifdef USE_VNNI
        __global const uchar* panel[NP];
        __global const int* xsum[MR];
        panel_tile_inputs(w, (size_t) nsb * SB_BYTES, p0, panels, x_sums, 16 * nsb, m0, M, panel, xsum);
        float16 lanes[MR * NP];
        kquant_vnni_panels(xrow, dxrow, xsum, panel, nsb, lanes);
        lanes_to_tile(lanes, &acc[0][0]);
#else
        int n[16 * NP];
        for (int j = 0; j < 16 * NP; j++) n[j] = min(p0 + j / 16, panels - 1) * 16 + j % 16;
        kquant_rows(xrow, dxrow, w, nsb, panels, n, 16 * NP, &acc[0][0]);
#endif
#define PANEL_STORE_ROW(j) (n_first + (j))
        STORE_TILE(16 * NP, PANEL_STORE_ROW, acc)
        return;
    }
    const int t0 = 16 * panels + (tile - panel_tiles) * NT, row_end = N;
    int n[NT];
    for (int j = 0; j < NT; j++) n[j] = min(t0 + j, N - 1);
    float acc[MR][NT];
    kquant_rows(xrow, dxrow, w, nsb, panels, n, NT, &acc[0][0]);
#define TAIL_STORE_ROW(j) (t0 + (j))
    STORE_TILE(NT, TAIL_STORE_ROW, acc)
}
#else   // Q8_0, Q4_0

// ---- Relayout: ggml's blocks -> the device layout above. Global (nb, rows); one work-item per block. --------
__kernel KERNEL_SHAPE void blockq_relayout(__global const uchar* src, const int nb, const int rows, __global uchar* dst) {
    const int b = get_global_id(0), r = get_global_id(1);
    if (b >= nb || r >= rows) return;
    const size_t row_bytes = (size_t) nb * (2 + QB);
    __global const uchar* block = src + (size_t) r * row_bytes + (size_t) b * (2 + QB);
    if (r < rows / 16 * 16) {
        const int rr = r % 16;
        __global uchar* panel = dst + (size_t) (r / 16) * 16 * row_bytes;
        __global uchar* values = panel + (size_t) b * 16 * QB;
        __global uchar* scale = panel + (size_t) nb * 16 * QB + (size_t) b * 32 + 2 * rr;
        scale[0] = block[0];
        scale[1] = block[1];
#if defined(BLOCK_Q4_0)
        for (int t = 0; t < 4; t++) vstore4(vload4(0, block + 2 + 4 * t), 0, values + 64 * t + 4 * rr);
#else
        for (int q = 0; q < 8; q++) vstore4(vload4(0, block + 2 + 4 * q) ^ (uchar4) 0x80, 0, values + 64 * q + 4 * rr);
#endif
        return;
    }
    __global uchar* row = dst + (size_t) r * row_bytes;
    row[(size_t) nb * QB + 2 * b] = block[0];
    row[(size_t) nb * QB + 2 * b + 1] = block[1];
#if defined(BLOCK_Q4_0)
    // Groups keep ggml's nibble bytes, block after block: the same place as without groups.
    vstore16(vload16(0, block + 2), 0, row + (size_t) b * 16);
#else
    const int grouped = b < (nb & ~3);
    const size_t lo = grouped ? (size_t) (b >> 2) * 128 + (b & 3) * 16 : (size_t) b * 32;
    vstore16(vload16(0, block + 2), 0, row + lo);
    vstore16(vload16(0, block + 18), 0, row + lo + (grouped ? 64 : 16));
#endif
}

// ---- Reading one block of one weight row, wherever it lies (the portable path) ---------------------------
// Values 0..15 into lo, 16..31 into hi, as signed integers; returns the block's scale.
static inline float weight_block(__global const uchar* w, const int nb, const int panels, const int n, const int b,
                                 char16* lo, char16* hi) {
    const size_t row_bytes = (size_t) nb * (2 + QB);
    if (n < 16 * panels) {
        const int rr = n % 16;
        __global const uchar* panel = w + (size_t) (n / 16) * 16 * row_bytes;
        __global const uchar* values = panel + (size_t) b * 16 * QB + 4 * rr;
#if defined(BLOCK_Q4_0)
        const uchar16 q = (uchar16) (vload4(0, values), vload4(0, values + 64), vload4(0, values + 128), vload4(0, values + 192));
        *lo = as_char16(q & (uchar16) 0x0F) - (char16) 8;
        *hi = as_char16(q >> (uchar16) 4) - (char16) 8;
#else
        const uchar16 a = (uchar16) (vload4(0, values), vload4(0, values + 64), vload4(0, values + 128), vload4(0, values + 192));
        const uchar16 c = (uchar16) (vload4(0, values + 256), vload4(0, values + 320), vload4(0, values + 384), vload4(0, values + 448));
        *lo = as_char16(a ^ (uchar16) 0x80);
        *hi = as_char16(c ^ (uchar16) 0x80);
#endif
        return vload_half(0, (__global const half*) (panel + (size_t) nb * 16 * QB + (size_t) b * 32 + 2 * rr));
    }
    __global const uchar* row = w + (size_t) n * row_bytes;
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
    return vload_half(b, (__global const half*) (row + (size_t) nb * QB));
}

// The exact integer dot product of two 16-value halves (int8 products fit in short; their sum needs int).
static inline int dot16(const char16 a, const char16 b) {
    const int16 p = convert_int16(convert_short16(a) * convert_short16(b));
    const int8 h8 = p.lo + p.hi;
    const int4 h4 = h8.lo + h8.hi;
    const int2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y;
}

// Blocks [first, nb) of rows n[0..count) into acc[i][j] (acc[i][j] + (float) s * (dx * dw), block by block: the
// reference's own order). rows past the real ones repeat the last (the caller does not store them).
#define PORTABLE_ROWS(COUNT, ROW_OF, ACC)                                                                         \
    for (int b = first; b < nb; b++) {                                                                           \
        char16 xlo[MR], xhi[MR];                                                                                 \
        float xd[MR];                                                                                            \
        _Pragma("unroll") for (int i = 0; i < MR; i++) {                                                         \
            xlo[i] = vload16(0, xrow[i] + 32 * b);                                                               \
            xhi[i] = vload16(0, xrow[i] + 32 * b + 16);                                                          \
            xd[i] = dxrow[i][b];                                                                                 \
        }                                                                                                        \
        for (int j = 0; j < (COUNT); j++) {                                                                      \
            char16 wlo, whi;                                                                                     \
            const float d = weight_block(w, nb, panels, (ROW_OF(j)), b, &wlo, &whi);                             \
            _Pragma("unroll") for (int i = 0; i < MR; i++) {                                                     \
                const int s = dot16(xlo[i], wlo) + dot16(xhi[i], whi);                                           \
                ACC[i][j] = ACC[i][j] + (float) s * (xd[i] * d);                                                 \
            }                                                                                                    \
        }                                                                                                        \
    }

#if defined(X86_VNNI) && defined(__clang__) && defined(__x86_64__) && !defined(OFFLOAD_FPGA)
#define USE_VNNI
// vpdpbusd multiplies unsigned by signed bytes, so the weights go in unsigned: Q8_0 as q + 128, Q4_0 as its bare
// nibbles (0..15); what that adds, C * (sum of the x values it met) with C = 128 or 8, is taken out by starting
// the integer sums at minus that.
#if defined(BLOCK_Q4_0)
#define OFFSET_BYTES 0x08080808
#define OFFSET 8
#else
#define OFFSET_BYTES 0x80808080
#define OFFSET 128
#endif

// -OFFSET * (sum of block b's 32 x values): 8 lanes of 4, then added up.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline int x_correction(__global const char* xrow, const int b) {
    const int8 part = __builtin_ia32_vpdpbusd256((int8) (0), (int8) (0x01010101), vload8(b, (__global const int*) xrow));
    const int4 h4 = part.lo + part.hi;
    const int2 h2 = h4.lo + h4.hi;
    return -OFFSET * (h2.x + h2.y);
}

// The corrections of every block of x ([M][K/32] ints) for X_SUMS: global (K/32, M), one work-item per block.
__kernel KERNEL_SHAPE void blockq_x_sums(__global const char* x, const int nb, const int M, __global int* sums) {
    const int b = get_global_id(0), m = get_global_id(1);
    if (b >= nb || m >= M) return;
    sums[(size_t) m * nb + b] = x_correction(x + (size_t) m * nb * 32, b);
}

// MR rows of x times NP panels: for every block, the 16 rows' exact integer sums of a panel build up in one
// vector (8 or 4 loads of weights, each met by a broadcast 4 bytes of every x row), then are converted, scaled by
// dx * dw (16 rows' scales at once) and added into one float lane per weight row: the reference's order, except
// that the product and the sum are one fused multiply-add.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static void vnni_panels(__global const char* const* xrow, __global const float* const* dxrow,
                        __global const int* const* xsum, __global const uchar* const* panel, const int nb,
                        float16* result) {
    float16 acc[MR][NP];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int p = 0; p < NP; p++) acc[i][p] = (float16) (0.0f);
    const size_t scales = (size_t) nb * 16 * QB;
    for (int b = 0; b < nb; b++) {
        int16 s[MR][NP];
#pragma unroll
        for (int i = 0; i < MR; i++) {
#ifdef X_SUMS
            const int start = xsum[i][b];
#else
            const int start = x_correction(xrow[i], b);
#endif
#pragma unroll
            for (int p = 0; p < NP; p++) s[i][p] = (int16) (start);
        }
        __global const int* xq[MR];
#pragma unroll
        for (int i = 0; i < MR; i++) xq[i] = (__global const int*) (xrow[i] + 32 * b);
        // A panel's block is 16 rows of QB bytes (256 Q4_0, 512 Q8_0), its 16 half scales 32 bytes.
        if (PREFETCH_BLOCKS > 0 && b + PREFETCH_BLOCKS < nb) {
#pragma unroll
            for (int p = 0; p < NP; p++) {
                PREFETCH_LINES(panel[p] + (size_t) (b + PREFETCH_BLOCKS) * 16 * QB, 16 * QB);
                PREFETCH_LINES(panel[p] + scales + (size_t) (b + PREFETCH_BLOCKS) * 32, 32);
            }
        }
#if defined(BLOCK_Q4_0)
#pragma unroll
        for (int t = 0; t < 4; t++) {
            uint16 v[NP];
#pragma unroll
            for (int p = 0; p < NP; p++) v[p] = vload16(0, (__global const uint*) (panel[p] + (size_t) b * 256 + 64 * t));
#pragma unroll
            for (int i = 0; i < MR; i++) {
                const int16 xlo = (int16) (xq[i][t]), xhi = (int16) (xq[i][4 + t]);
#pragma unroll
                for (int p = 0; p < NP; p++) {
                    s[i][p] = __builtin_ia32_vpdpbusd512(s[i][p], as_int16(v[p] & (uint16) 0x0F0F0F0Fu), xlo);
                    s[i][p] = __builtin_ia32_vpdpbusd512(s[i][p], as_int16((v[p] >> 4) & (uint16) 0x0F0F0F0Fu), xhi);
                }
            }
        }
#else
#pragma unroll
        for (int q = 0; q < 8; q++) {
            int16 v[NP];
#pragma unroll
            for (int p = 0; p < NP; p++) v[p] = vload16(0, (__global const int*) (panel[p] + (size_t) b * 512 + 64 * q));
#pragma unroll
            for (int i = 0; i < MR; i++) {
                const int16 xb = (int16) (xq[i][q]);
#pragma unroll
                for (int p = 0; p < NP; p++) s[i][p] = __builtin_ia32_vpdpbusd512(s[i][p], v[p], xb);
            }
        }
#endif
#pragma unroll
        for (int p = 0; p < NP; p++) {
            const float16 dw = vload_half16(0, (__global const half*) (panel[p] + scales + (size_t) b * 32));
#pragma unroll
            for (int i = 0; i < MR; i++) acc[i][p] = acc[i][p] + convert_float16(s[i][p]) * (dw * dxrow[i][b]);   // the reference's t = (float) s * (dx * d), acc + t: no fma
        }
    }
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int p = 0; p < NP; p++) result[i * NP + p] = acc[i][p];
}

// Lane l of 4 values per block -> 16 lanes: (d0 d0 d0 d0 d1 d1 d1 d1 d2 ... d3).
static inline float16 per_block_lanes(const float4 d) {
    return __builtin_shufflevector(d, d, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
}

// The 4-block groups of MR rows of x times NT tail rows: each lane's exact integer sum (4 lanes make a block) is
// converted, scaled by its block's dx * dw and added into a float lane; result[i][j] holds 16 lanes.
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void vnni_groups(__global const char* const* xrow, __global const float* const* dxrow,
                        __global const uchar* const* wrow, __global const half* const* wd, const int groups,
                        float16* result) {
    const int16 offset = (int16) (OFFSET_BYTES);
    float16 acc[MR][NT];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NT; j++) acc[i][j] = (float16) (0.0f);
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
        for (int j = 0; j < NT; j++) {
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
        for (int j = 0; j < NT; j++) result[i * NT + j] = acc[i][j];
}

static inline float hsum16(const float16 v) {
    const float8 h8 = v.lo + v.hi;
    const float4 h4 = h8.lo + h8.hi;
    const float2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y;
}
#endif

// The AMX panel tiles (X86_AMX): defines USE_AMX and amx_linear_tile.
#include "amx_blockq.clh"



// Tile `tile` of MR rows of x from m0 (< M) (the VNNI and portable paths): panel tile t takes panels NP t .. NP t + NP - 1 (rows 16 NP t ..),
// tail tile u takes tail rows 16 P + NT u ... Rows past M, panels past P and rows past N are computed from the last
// real one and not stored; a tile past the weight's stores nothing (the host may round the global size up).
static void linear_tile_rows(__global const char* x, __global const float* dx, const int M, const int K,
                             __global const uchar* w, const int N, __global const float* bias, __global const int* x_sums,
                             __global const float* residual, __global float* y, const int m0, const int tile) {
    const int nb = K / 32, panels = N / 16;
    const int panel_tiles = (panels + NP - 1) / NP;
    if (tile >= weight_tiles(N)) return;
    const size_t row_bytes = (size_t) nb * (2 + QB);
    __global const char* xrow[MR];
    __global const float* dxrow[MR];
    activation_rows(x, dx, m0, M, K, xrow, dxrow);
    int first = 0;   // the first block the portable loop sums (the VNNI paths do the ones before it)
    if (tile < panel_tiles) {
        const int p0 = tile * NP, row_end = min(N, 16 * panels);
#define PANEL_ROW(j) (min(p0 + (j) / 16, panels - 1) * 16 + (j) % 16)
        float acc[MR][16 * NP];
#ifdef USE_VNNI
        __global const uchar* panel[NP];
        __global const int* xsum[MR];
        panel_tile_inputs(w, row_bytes, p0, panels, x_sums, nb, m0, M, panel, xsum);
        float16 lanes[MR * NP];
        vnni_panels(xrow, dxrow, xsum, panel, nb, lanes);
        lanes_to_tile(lanes, &acc[0][0]);
        first = nb;
#else
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < 16 * NP; j++) acc[i][j] = 0.0f;
#endif
        PORTABLE_ROWS(16 * NP, PANEL_ROW, acc)
        const int n_first = 16 * p0;
#define PANEL_STORE_ROW(j) (n_first + (j))
        STORE_TILE(16 * NP, PANEL_STORE_ROW, acc)
        return;
    }
    const int t0 = 16 * panels + (tile - panel_tiles) * NT, row_end = N;
#define TAIL_ROW(j) min(t0 + (j), N - 1)
    float acc[MR][NT];
#ifdef USE_VNNI
    __global const uchar* wrow[NT];
    __global const half* wd[NT];
#pragma unroll
    for (int j = 0; j < NT; j++) {
        wrow[j] = w + (size_t) TAIL_ROW(j) * row_bytes;
        wd[j] = (__global const half*) (wrow[j] + (size_t) nb * QB);
    }
    float16 lanes[MR * NT];
    vnni_groups(xrow, dxrow, wrow, wd, nb >> 2, lanes);
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NT; j++) acc[i][j] = hsum16(lanes[i * NT + j]);
    first = nb & ~3;
#else
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NT; j++) acc[i][j] = 0.0f;
#endif
    PORTABLE_ROWS(NT, TAIL_ROW, acc)
#define TAIL_STORE_ROW(j) (t0 + (j))
    STORE_TILE(NT, TAIL_STORE_ROW, acc)
}

// A work-item's rows of x (ITEM_ROWS from m0) times tile `tile`: with AMX a panel tile on the tiles, a tail tile MR
// rows at a time; else linear_tile_rows.
#ifdef USE_AMX
#define ITEM_ROWS AMX_MR
#else
#define ITEM_ROWS MR
#endif
static void linear_tile(__global const char* x, __global const float* dx, const int M, const int K,
                        __global const uchar* w, const int N, __global const float* bias, __global const int* x_sums,
                        __global const float* residual, __global float* y, const int m0, const int tile) {
#ifdef USE_AMX
    if (tile < (N / 16 + NP - 1) / NP) {
        amx_linear_tile(x, dx, M, K, w, N, bias, x_sums, residual, y, m0, tile);
        return;
    }
    for (int m = m0; m < min(m0 + ITEM_ROWS, M); m += MR) linear_tile_rows(x, dx, M, K, w, N, bias, x_sums, residual, y, m, tile);
#else
    linear_tile_rows(x, dx, M, K, w, N, bias, x_sums, residual, y, m0, tile);
#endif
}
#endif   // Q8_0, Q4_0

// ---- The kernels (every format) ----------------------------------------------------------------------------
// blockq_linear: one weight (HAS_RESIDUAL: plus residual, [M][N]). Global size (ceil(M / ITEM_ROWS), the weight's tiles,
// rounded up to the local size). Work-items next to each other along dimension 0 read the same weights for different rows of x, so a
// work-group's weights are read from memory once and reused from the cache.
__kernel KERNEL_SHAPE void blockq_linear(__global const char* x, __global const float* dx, const int M, const int K,
                                         __global const uchar* w, const int N, __global const float* bias,
                                         __global const int* x_sums, __global const float* residual, __global float* y) {
    const int m0 = get_global_id(0) * ITEM_ROWS;
    if (m0 >= M) return;
    linear_tile(x, dx, M, K, w, N, bias, x_sums, residual, y, m0, get_global_id(1));
}

// blockq_linear_group: two or three weights of one x (Q, K and V; gate and up) in one launch, each into its own y
// (N2 = 0: two). Dimension 1 runs over weight 0's tiles, then weight 1's, then weight 2's; a work-item computes
// exactly what blockq_linear's would for the same tile of its weight, so the results are blockq_linear's bit for
// bit, with one launch (and one x_sums pre-pass) instead of three.
__kernel KERNEL_SHAPE void blockq_linear_group(__global const char* x, __global const float* dx, const int M, const int K,
                                               __global const int* x_sums,
                                               __global const uchar* w0, const int N0, __global const float* bias0, __global float* y0,
                                               __global const uchar* w1, const int N1, __global const float* bias1, __global float* y1,
                                               __global const uchar* w2, const int N2, __global const float* bias2, __global float* y2) {
    const int m0 = get_global_id(0) * ITEM_ROWS;
    if (m0 >= M) return;
    const int tile = get_global_id(1), t0 = weight_tiles(N0), t01 = t0 + weight_tiles(N1);
    // One call on the chosen weight's pointers (not one inlined copy of the tile per weight).
    const int part = tile < t0 ? 0 : tile < t01 ? 1 : 2;
    __global const uchar* w = part == 0 ? w0 : part == 1 ? w1 : w2;
    __global const float* bias = part == 0 ? bias0 : part == 1 ? bias1 : bias2;
    __global float* y = part == 0 ? y0 : part == 1 ? y1 : y2;
    const int N = part == 0 ? N0 : part == 1 ? N1 : N2;
    // No residual here (the host builds groups without HAS_RESIDUAL): the argument is never read.
    linear_tile(x, dx, M, K, w, N, bias, x_sums, 0, y, m0, tile - (part == 0 ? 0 : part == 1 ? t0 : t01));
}

// ==== GPU decode matvec (helper section; host: BlockMatmul.GpuMatvec) =========================================
// blockq_matvec_gpu: the decode form (M <= 4 rows of x, MR = M) shaped for GPUs, Q8_0 and Q4_0, built with
// MATVEC_LANES. It reads the device layout above (the weight stays one resident buffer for decode and prefill, no
// second copy): a panel's layout is already coalesced for a GPU, since 16 consecutive work-items (the panel's 16
// rows) reading block b's vector q read 64 consecutive bytes, and a tail row's blocks are contiguous.
//
// Local size (16, MATVEC_LANES); global (16 * ceil(N / 16), MATVEC_LANES): work-group g owns weight rows
// 16 g .. 16 g + 15 (panel g, or the tail rows), item (r, lane) row 16 g + r and blocks lane, lane + LANES, ...: an
// exact integer sum per block, then acc + (float) s * (dx * d) block after block (no contraction: FP_CONTRACT is off
// in this file), one chain per lane; the lanes then meet in a local-memory tree, pairwise halving (log2 LANES <= 4
// levels), and the bias (and residual) join last. That is the summation BlockLinearBound allows (a chain per lane
// over the blocks, a tree of at most 4 levels over at most 16 lanes), so it is checked within that bound; with
// MATVEC_LANES = 1 it is the reference's own order, bit for bit. Sub-group reductions are not used: their order is
// unspecified (it could be a chain of 16, past the bound's 4 levels), and a row's lanes are 16 items apart here.
// Rows past N compute a copy of the last row (every item reaches the barriers) and store nothing.
// Not for the FPGA style (barriers between work-items of a group; FPGA keeps blockq_linear).
#if !defined(BLOCK_Q4_K) && !defined(BLOCK_Q6_K) && defined(MATVEC_LANES) && !defined(OFFLOAD_FPGA)
#if MATVEC_LANES < 1 || MATVEC_LANES > 16 || (MATVEC_LANES & (MATVEC_LANES - 1)) != 0
#error "MATVEC_LANES must be 1, 2, 4, 8 or 16"
#endif
__kernel __attribute__((reqd_work_group_size(16, MATVEC_LANES, 1))) void blockq_matvec_gpu(
        __global const char* x, __global const float* dx, const int M, const int K,
        __global const uchar* w, const int N, __global const float* bias, __global const float* residual, __global float* y) {
    __local float red[MR][MATVEC_LANES][16];
    const int r = get_local_id(0), lane = get_local_id(1);
    const int nb = K / 32, panels = N / 16;
    const int n_real = get_group_id(0) * 16 + r;
    const int n = min(n_real, N - 1);
    __global const char* xrow[MR];
    __global const float* dxrow[MR];
    activation_rows(x, dx, 0, M, K, xrow, dxrow);
    float acc[MR];
    for (int i = 0; i < MR; i++) acc[i] = 0.0f;
    for (int b = lane; b < nb; b += MATVEC_LANES) {
        char16 wlo, whi;
        const float d = weight_block(w, nb, panels, n, b, &wlo, &whi);
        for (int i = 0; i < MR; i++) {
            const int s = dot16(vload16(0, xrow[i] + 32 * b), wlo) + dot16(vload16(0, xrow[i] + 32 * b + 16), whi);
            acc[i] = acc[i] + (float) s * (dxrow[i][b] * d);
        }
    }
    for (int i = 0; i < MR; i++) red[i][lane][r] = acc[i];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = MATVEC_LANES / 2; span > 0; span >>= 1) {
        if (lane < span) {
            for (int i = 0; i < MR; i++) red[i][lane][r] = red[i][lane][r] + red[i][lane + span][r];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane != 0 || n_real >= N) return;
    for (int i = 0; i < MR && i < M; i++) {
        const size_t at = (size_t) i * N + n;
        y[at] = WITH_RESIDUAL(at, red[i][0][r] + BIAS(n));
    }
}
#endif   // GPU decode matvec
