// Block-sparse INT8 linear layer (the graph's sparse_linear with a BSR weight), token-major. Host side:
// dev.offload.ops.sparse.BsrLinear; judges: SparseLinearReference (from the BSR storage) and the dense int8 linear
// (Int8GemmReference.int8Linear, and int8_gemm.cl's dequantize epilogue, whose float operations this repeats).
//
//   y[t, n] = act(float(sum_k (a[t,k] - za(t)) * W[k,n]) * (sa(t) * sw[n]) + bias[n])
//
// a [T, K] is a quantize node's output (uint8, or int8), its scale sa and zero point za per tensor or per row (read
// with a_stride 0 or 1). W [K, N] is int8 (symmetric: a zero weight is a zero), pruned in blocks and stored
// transposed, S = W^T [N, K], in BSR with blocks of BR = 16 * NV output channels x 4 consecutive k (BsrMatrix's
// layout, made once when the weight is uploaded): block row r (channels BR r .. BR r + BR - 1) lists its blocks
// block_ptr[r] .. block_ptr[r + 1]; block j covers k = 4 block_col[j] .. + 3 and holds BR x 4 int8 values,
// row-major: channel c's 4 values are bytes 4c .. 4c + 3. So 16 channels' 4 k-values are one 64-byte vector,
// exactly a panel row of int8_gemm.cl's VNNI layout, and one vpdpbusd of it with 4 broadcast activation bytes adds
// 4 products into each of 16 channel sums. Channels past N (padding of the last block row) hold zeros.
//
// A work-item computes MR tokens x BR channels: it walks its block row's stored blocks once and meets every block
// with all MR token rows (rows of a stay in L1, the block row's blocks in L2), so each weight block loaded is
// reused MR times and each loaded activation word NV times. The work is proportional to the stored blocks.
// NDRange: global = {ceil(N / BR), ceil(T / MR)}; any local size (the host groups work-items along dimension 0,
// which share their token rows).
//
// Integer sums: vpdpbusd multiplies unsigned by signed bytes, so a is made unsigned (int8: a ^ 0x80 = a + 128);
// the zero point and that offset come out after the sum, as (a_offset + za(t)) * wsum[n] with wsum[n] = sum_k W[k,n]
// (computed when the weight is uploaded). Every sum that may wrap is done in uint: bit-exact with Java's int.
//
// Build defines:
//   MR           token rows per work-item (1..8)
//   NV           16-channel vectors per block (1: 16 x 4 blocks, 2: 32 x 4 blocks)
//   X86_VNNI     sum through vpdpbusd (AVX512-VNNI; PoCL on a host CPU that has it), else the portable loop
//   OFFLOAD_FPGA FPGA style (offload.clh): single work-item work-groups, the portable loop, no x86 built-ins
// Build with -cl-fp32-correctly-rounded-divide-sqrt: GELU_ERF's x / sqrt 2 must round as the Java reference does.

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"

#include "erf.clh"
#include "activation.clh"

// The epilogue rounds like the Java reference and int8_gemm.cl: no contraction of c * s + bias into fma.
#pragma OPENCL FP_CONTRACT OFF

#ifndef MR
#define MR 8
#endif
#ifndef NV
#define NV 1
#endif
#define BR (16 * NV)

// ---- The epilogue: activation selected at run time by Activation's ordinal (the reference's own functions) ----

static inline float bsr_activate(const float x, const int act) {
    switch (act) {
        case 1: return OFFLOAD_RELU(x);                                   // RELU
        case 2: return x * (offload_erf(x / 1.4142135f) + 1.0f) * 0.5f;  // GELU_ERF (Activation.geluErf)
        case 3: return OFFLOAD_GELU_TANH(x);                              // GELU_TANH
        case 4: return x / (1.0f + exp(-x));                              // SILU
        default: return x;                                                // NONE
    }
}

static inline float16 bsr_activate16(const float16 x, const int act) {
    switch (act) {
        case 1: return OFFLOAD_RELU(x);
        case 2: return x * (offload_erf16(x / 1.4142135f) + 1.0f) * 0.5f;
        case 3: return OFFLOAD_GELU_TANH(x);
        case 4: return x / (1.0f + exp(-x));
        default: return x;
    }
}

#define BSR_EPILOGUE_PARAMS __global const float* sa, __global const int* za, const int a_stride, const int a_offset, \
        __global const float* sw, __global const float* bias, const int has_bias, const int act, __global float* y
#define BSR_EPILOGUE_ARGS sa, za, a_stride, a_offset, sw, bias, has_bias, act, y

// y[t, n .. n + 15] from the unsigned-domain sums s of 16 channels: zero point out, then c * (sa * sw) (+ bias),
// the activation, in int8_gemm.cl's order. Channels past N are not stored.
static inline void bsr_store16(const uint16 s, const int16 wsum, const int t, const int n, const int N, BSR_EPILOGUE_PARAMS) {
    const uint zt = (uint) (za[t * a_stride] + a_offset);
    const int16 c = as_int16(s - zt * as_uint16(wsum));
    const float st = sa[t * a_stride];
    const size_t at = (size_t) t * N + n;
    if (n + 16 <= N) {
        float16 v = convert_float16(c) * (st * vload16(0, sw + n));
        if (has_bias) v += vload16(0, bias + n);
        vstore16(bsr_activate16(v, act), 0, y + at);
        return;
    }
    int cs[16];
    vstore16(c, 0, cs);
    for (int l = 0; l < N - n; l++) {
        float v = (float) cs[l] * (st * sw[n + l]);
        if (has_bias) v += bias[n + l];
        y[at + l] = bsr_activate(v, act);
    }
}

// The 4 bytes of a at k = 4q .. 4q + 3 of one row as an unsigned word (lowest k in the lowest byte), made unsigned
// with mask (0 for uint8 a, 0x80808080 for int8). Bytes past K (a last partial quad) read as 0: their weights are
// zero padding, and reading them could run past the end of a.
static inline uint bsr_quad(__global const uchar* row, const int q, const int K, const uint mask) {
    if (4 * q + 4 <= K) return as_uint(vload4(0, row + 4 * q)) ^ mask;
    uint w = 0;
    for (int u = 0; 4 * q + u < K; u++) w |= (uint) (row[4 * q + u] ^ (uchar) mask) << (8 * u);
    return w;
}

#if defined(X86_VNNI) && defined(__clang__) && defined(__x86_64__) && !defined(OFFLOAD_FPGA)
// ---- vpdpbusd: per block NV 64-byte loads of weights, MR broadcast activation words, MR x NV vpdpbusd ----------
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void bsr_sums(__global const uchar* const* arow, const uint mask, __global const int* block_col,
                     __global const char* vals, const int begin, const int end, const int K, uint16* result) {
    int16 acc[MR][NV];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int v = 0; v < NV; v++) acc[i][v] = (int16) (0);
    const int whole = K >> 2;   // quads wholly inside K
    // One block: its NV weight vectors, then per token row a broadcast word and NV vpdpbusd.
#define BSR_BLOCK(A_WORD)                                                                                         \
    {                                                                                                             \
        const int q = block_col[j];                                                                               \
        __global const int* w = (__global const int*) (vals + (size_t) j * (BR * 4));                           \
        int16 b[NV];                                                                                              \
        _Pragma("unroll") for (int v = 0; v < NV; v++) b[v] = vload16(v, w);                                     \
        _Pragma("unroll") for (int i = 0; i < MR; i++) {                                                          \
            const int16 a4 = (int16) (A_WORD);                                                                    \
            _Pragma("unroll") for (int v = 0; v < NV; v++) acc[i][v] = __builtin_ia32_vpdpbusd512(acc[i][v], a4, b[v]); \
        }                                                                                                         \
    }
    // The fast loops stop at the first block that reaches past K (a last partial quad); it and the rest take
    // bsr_quad's careful path. BsrLinear stores blocks in column order, so that is at most the last block of the row.
    // uint8 a (the usual case) needs no mask, and a loop of its own lets LLVM broadcast straight from memory (as in
    // int8_gemm.cl).
    int j = begin;
    // A whole tile (every row inside T, so row i is row 0 + i K): rows addressed from one pointer keep all MR row
    // addresses in registers, where the array of row pointers is reloaded for every block (measured 5-8% faster).
    __global const uchar* const a0 = arow[0];
    if (mask == 0u && arow[MR - 1] == a0 + (size_t) (MR - 1) * K) {
        for (; j < end && block_col[j] < whole; j++) BSR_BLOCK(as_int(vload4(0, a0 + (size_t) i * K + 4 * q)))
    } else if (mask == 0u) {
        for (; j < end && block_col[j] < whole; j++) BSR_BLOCK(as_int(vload4(0, arow[i] + 4 * q)))
    } else {
        for (; j < end && block_col[j] < whole; j++) BSR_BLOCK(as_int(as_uint(vload4(0, arow[i] + 4 * q)) ^ mask))
    }
    for (; j < end; j++) BSR_BLOCK(as_int(bsr_quad(arow[i], q, K, mask)))
#undef BSR_BLOCK
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int v = 0; v < NV; v++) result[i * NV + v] = as_uint16(acc[i][v]);
}
#else
// ---- Portable (and FPGA style): each lane's 4 weight bytes sign-extended by shifts, 4 multiply-adds per token row ----
static void bsr_sums(__global const uchar* const* arow, const uint mask, __global const int* block_col,
                     __global const char* vals, const int begin, const int end, const int K, uint16* result) {
    uint16 acc[MR][NV];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int v = 0; v < NV; v++) acc[i][v] = (uint16) (0);
    for (int j = begin; j < end; j++) {
        const int q = block_col[j];
        __global const uint* w = (__global const uint*) (vals + (size_t) j * (BR * 4));
        int16 w0[NV], w1[NV], w2[NV], w3[NV];
#pragma unroll
        for (int v = 0; v < NV; v++) {
            const uint16 b = vload16(v, w);
            w0[v] = as_int16(b << 24) >> 24;
            w1[v] = as_int16(b << 16) >> 24;
            w2[v] = as_int16(b << 8) >> 24;
            w3[v] = as_int16(b) >> 24;
        }
#pragma unroll
        for (int i = 0; i < MR; i++) {
            const uint a = bsr_quad(arow[i], q, K, mask);
            const int a0 = a & 0xFF, a1 = (a >> 8) & 0xFF, a2 = (a >> 16) & 0xFF, a3 = a >> 24;
            // |each product| <= 255 * 128: the sum of four is exact in int.
#pragma unroll
            for (int v = 0; v < NV; v++) acc[i][v] += as_uint16(w0[v] * a0 + w1[v] * a1 + w2[v] * a2 + w3[v] * a3);
        }
    }
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int v = 0; v < NV; v++) result[i * NV + v] = acc[i][v];
}
#endif

// a_flip: 0 for uint8 a, 0x80 for int8 (then a_offset is 128, else 0). wsum: sum of each channel's weights, padded
// with zeros to a whole number of block rows. sw, bias: N floats (bias read when has_bias).
__kernel KERNEL_SHAPE void bsr_linear(__global const int* block_ptr, __global const int* block_col, __global const char* vals,
                                      __global const int* wsum, const int T, const int K, const int N,
                                      __global const uchar* a, const int a_flip, BSR_EPILOGUE_PARAMS) {
    const int r = get_global_id(0), t0 = get_global_id(1) * MR;
    const int n0 = r * BR;
    if (n0 >= N || t0 >= T) return;  // the host may round the global size up to the work-group size
    // Rows past T re-read row T - 1 (cheap, branch-free) and are not stored.
    __global const uchar* arow[MR];
#pragma unroll
    for (int i = 0; i < MR; i++) arow[i] = a + (size_t) min(t0 + i, T - 1) * K;
    uint16 s[MR][NV];
    bsr_sums(arow, (uint) (a_flip & 0xFF) * 0x01010101u, block_col, vals, block_ptr[r], block_ptr[r + 1], K, &s[0][0]);
#pragma unroll
    for (int v = 0; v < NV; v++) {
        const int n = n0 + 16 * v;
        if (n >= N) break;
        const int16 ws = vload16(0, wsum + n);
#pragma unroll
        for (int i = 0; i < MR; i++) {
            if (t0 + i >= T) break;
            bsr_store16(s[i][v], ws, t0 + i, n, N, BSR_EPILOGUE_ARGS);
        }
    }
}
