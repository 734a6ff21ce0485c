// Sparse x dense matrix multiply: Y[M,N] = S[M,K] x B[K,N], S sparse (pruned weights), B and Y row-major.
//
// Shaped for CPUs (PoCL) and still valid anywhere: no local memory, no barriers. A work-item owns one row m
// of Y and a tile of TILE = 32 consecutive columns n0..n0+31, keeps the tile in two 16-wide vector
// accumulators, and walks only the stored values of row m: for each stored value s at column k it loads row k
// of B (vload16, contiguous) and accumulates s * B[k, tile]. The work is therefore proportional to the stored
// values: at 90% sparsity a tenth of the dense multiply. The last tile of a row, when N is not a multiple of
// TILE, is done column by column.
//
// NDRange: global = {ceil(N / TILE), M}, any local size.
// int8: products are exact in int; accumulators are uint so that overflow wraps (defined behaviour) exactly
// like Java's int. float32: fma per term, stored order.

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"

#include "erf.clh"
#include "activation.clh"

#define TILE 32

// The dequantize epilogue must round like the Java reference: no contraction of a*b+c into fma.
#pragma OPENCL FP_CONTRACT OFF

// ---- accumulation of one 32-column tile in two 16-wide accumulators, acc0 and acc1 ----
// Macros rather than functions over an array of vectors: PoCL keeps named vector variables in registers but
// spilled a private array of them to memory (3x slower, measured).

#define MAC_I8(s, brow) do { const int s_ = (s); __global const char* b_ = (brow); \
        acc0 += convert_uint16(convert_int16(vload16(0, b_)) * s_); \
        acc1 += convert_uint16(convert_int16(vload16(1, b_)) * s_); } while (0)

#define STORE_I8(yrow) do { vstore16(as_int16(acc0), 0, (yrow)); vstore16(as_int16(acc1), 1, (yrow)); } while (0)

#define MAC_F32(s, brow) do { const float16 s_ = (float16) (s); __global const float* b_ = (brow); \
        acc0 = fma(s_, vload16(0, b_), acc0); \
        acc1 = fma(s_, vload16(1, b_), acc1); } while (0)

#define STORE_F32(yrow) do { vstore16(acc0, 0, (yrow)); vstore16(acc1, 1, (yrow)); } while (0)

// ---- CSR: rowPtr[M+1], colIdx[nnz], vals[nnz] ----

__kernel KERNEL_SHAPE void spmm_csr_i8(const int M, const int N, __global const int* rowPtr, __global const int* colIdx,
                          __global const char* vals, __global const char* B, __global int* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int begin = rowPtr[m], end = rowPtr[m + 1];
    if (n0 + TILE <= N) {
        uint16 acc0 = 0, acc1 = 0;
        for (int j = begin; j < end; j++) MAC_I8(vals[j], B + (size_t) colIdx[j] * N + n0);
        STORE_I8(Y + (size_t) m * N + n0);
    } else {
        for (int n = n0; n < N; n++) {
            uint acc = 0;
            for (int j = begin; j < end; j++) acc += (uint) (vals[j] * B[(size_t) colIdx[j] * N + n]);
            Y[(size_t) m * N + n] = as_int(acc);
        }
    }
}

__kernel KERNEL_SHAPE void spmm_csr_f32(const int M, const int N, __global const int* rowPtr, __global const int* colIdx,
                           __global const float* vals, __global const float* B, __global float* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int begin = rowPtr[m], end = rowPtr[m + 1];
    if (n0 + TILE <= N) {
        float16 acc0 = 0, acc1 = 0;
        for (int j = begin; j < end; j++) MAC_F32(vals[j], B + (size_t) colIdx[j] * N + n0);
        STORE_F32(Y + (size_t) m * N + n0);
    } else {
        for (int n = n0; n < N; n++) {
            float acc = 0;
            for (int j = begin; j < end; j++) acc = fma(vals[j], B[(size_t) colIdx[j] * N + n], acc);
            Y[(size_t) m * N + n] = acc;
        }
    }
}

// ---- BSR with R x C blocks: blockRowPtr[ceil(M/R)+1], blockColIdx[blocks], vals[blocks][R][C] ----
// Row m reads row (m % R) of each block of its block row; block columns past K (padding) are skipped.

__kernel KERNEL_SHAPE void spmm_bsr_i8(const int M, const int K, const int N, const int R, const int C,
                          __global const int* blockRowPtr, __global const int* blockColIdx,
                          __global const char* vals, __global const char* B, __global int* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int begin = blockRowPtr[m / R], end = blockRowPtr[m / R + 1], r = m % R;
    if (n0 + TILE <= N) {
        uint16 acc0 = 0, acc1 = 0;
        for (int j = begin; j < end; j++) {
            const int k0 = blockColIdx[j] * C, width = min(C, K - k0);
            __global const char* s = vals + ((size_t) j * R + r) * C;
            for (int c = 0; c < width; c++) MAC_I8(s[c], B + (size_t) (k0 + c) * N + n0);
        }
        STORE_I8(Y + (size_t) m * N + n0);
    } else {
        for (int n = n0; n < N; n++) {
            uint acc = 0;
            for (int j = begin; j < end; j++) {
                const int k0 = blockColIdx[j] * C, width = min(C, K - k0);
                __global const char* s = vals + ((size_t) j * R + r) * C;
                for (int c = 0; c < width; c++) acc += (uint) (s[c] * B[(size_t) (k0 + c) * N + n]);
            }
            Y[(size_t) m * N + n] = as_int(acc);
        }
    }
}

__kernel KERNEL_SHAPE void spmm_bsr_f32(const int M, const int K, const int N, const int R, const int C,
                           __global const int* blockRowPtr, __global const int* blockColIdx,
                           __global const float* vals, __global const float* B, __global float* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int begin = blockRowPtr[m / R], end = blockRowPtr[m / R + 1], r = m % R;
    if (n0 + TILE <= N) {
        float16 acc0 = 0, acc1 = 0;
        for (int j = begin; j < end; j++) {
            const int k0 = blockColIdx[j] * C, width = min(C, K - k0);
            __global const float* s = vals + ((size_t) j * R + r) * C;
            for (int c = 0; c < width; c++) MAC_F32(s[c], B + (size_t) (k0 + c) * N + n0);
        }
        STORE_F32(Y + (size_t) m * N + n0);
    } else {
        for (int n = n0; n < N; n++) {
            float acc = 0;
            for (int j = begin; j < end; j++) {
                const int k0 = blockColIdx[j] * C, width = min(C, K - k0);
                __global const float* s = vals + ((size_t) j * R + r) * C;
                for (int c = 0; c < width; c++) acc = fma(s[c], B[(size_t) (k0 + c) * N + n], acc);
            }
            Y[(size_t) m * N + n] = acc;
        }
    }
}

// ---- 2:4: G = ceil(K/4) groups per row; vals[M][G][2]; idx[M][G], bits 0-1 and 2-3 = positions in the group ----

__kernel KERNEL_SHAPE void spmm_24_i8(const int M, const int K, const int N, __global const uchar* idx,
                         __global const char* vals, __global const char* B, __global int* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int groups = (K + 3) / 4;
    __global const uchar* ix = idx + (size_t) m * groups;
    __global const char* s = vals + (size_t) m * groups * 2;
    if (n0 + TILE <= N) {
        uint16 acc0 = 0, acc1 = 0;
        for (int g = 0; g < groups; g++) {
            const int p = ix[g];
            MAC_I8(s[2 * g], B + (size_t) (4 * g + (p & 3)) * N + n0);
            MAC_I8(s[2 * g + 1], B + (size_t) (4 * g + (p >> 2)) * N + n0);
        }
        STORE_I8(Y + (size_t) m * N + n0);
    } else {
        for (int n = n0; n < N; n++) {
            uint acc = 0;
            for (int g = 0; g < groups; g++) {
                const int p = ix[g];
                acc += (uint) (s[2 * g] * B[(size_t) (4 * g + (p & 3)) * N + n]);
                acc += (uint) (s[2 * g + 1] * B[(size_t) (4 * g + (p >> 2)) * N + n]);
            }
            Y[(size_t) m * N + n] = as_int(acc);
        }
    }
}

__kernel KERNEL_SHAPE void spmm_24_f32(const int M, const int K, const int N, __global const uchar* idx,
                          __global const float* vals, __global const float* B, __global float* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int groups = (K + 3) / 4;
    __global const uchar* ix = idx + (size_t) m * groups;
    __global const float* s = vals + (size_t) m * groups * 2;
    if (n0 + TILE <= N) {
        float16 acc0 = 0, acc1 = 0;
        for (int g = 0; g < groups; g++) {
            const int p = ix[g];
            MAC_F32(s[2 * g], B + (size_t) (4 * g + (p & 3)) * N + n0);
            MAC_F32(s[2 * g + 1], B + (size_t) (4 * g + (p >> 2)) * N + n0);
        }
        STORE_F32(Y + (size_t) m * N + n0);
    } else {
        for (int n = n0; n < N; n++) {
            float acc = 0;
            for (int g = 0; g < groups; g++) {
                const int p = ix[g];
                acc = fma(s[2 * g], B[(size_t) (4 * g + (p & 3)) * N + n], acc);
                acc = fma(s[2 * g + 1], B[(size_t) (4 * g + (p >> 2)) * N + n], acc);
            }
            Y[(size_t) m * N + n] = acc;
        }
    }
}

// ---- dequantize epilogue: y = float(acc) * rowScale[m] * bScale (+ bias[m]), one work-item per element ----

__kernel KERNEL_SHAPE void spmm_dequantize(const int M, const int N, __global const int* acc, __global const float* rowScale,
                              const float bScale, __global const float* bias, const int hasBias,
                              __global float* Y) {
    const size_t i = get_global_id(0);
    if (i >= (size_t) M * N) return;
    const int m = (int) (i / N);
    const float y = convert_float(acc[i]) * rowScale[m] * bScale;
    Y[i] = hasBias ? y + bias[m] : y;
}

// ---- Sparse linear layer (the graph runtime's sparse_linear), token-major ----------------------------------
// y[t, n] = act(sum_k (a[t,k] - za(t)) * W[k,n] * (sa(t) * sw[n]) + bias[n]) for activations a [T, K] as a
// quantize node leaves them (uint8 or int8, scale and zero point per tensor or per row, read with a_stride 0 or 1)
// and a pruned int8 weight W [K, N] stored transposed, S = W^T [N, K] (transposed once, when it is uploaded), so
// that row n of S lists the non-zeros feeding output n. A work-item computes SL_TB tokens of one output: it walks
// row n's stored values once and gathers the matching activations of its tokens (rows of a stay in L1).
// Global size {N, ceil(T / SL_TB)}. Integer sums are exact; the float epilogue matches Int8GemmReference.int8Linear.

#define SL_TB 4

static inline float sl_activate(const float x, const int act) {
    switch (act) {
        case 1: return OFFLOAD_RELU(x);                                                             // RELU
        case 2: return x * (offload_erf(x / 1.4142135f) + 1.0f) * 0.5f;                            // GELU_ERF                          // GELU_ERF
        case 3: return OFFLOAD_GELU_TANH(x);                                                        // GELU_TANH
        case 4: return x / (1.0f + exp(-x));                                                        // SILU
        default: return x;
    }
}

// a's bytes as values: uint8 (a_flip 0, a_offset 0) or int8 (a_flip 0x80, a_offset 128).
#define SL_A(row, k) ((int) ((row)[k] ^ a_flip) - a_offset)

#define SL_PARAMS const int T, const int K, const int N, \
        __global const uchar* a, const int a_flip, const int a_offset, \
        __global const float* sa, __global const int* za, const int a_stride, \
        __global const float* sw, __global const float* bias, const int has_bias, const int act, __global float* y

static inline void sl_store(const int* acc, const int wsum, const int t0, const int n, SL_PARAMS) {
    for (int i = 0; i < SL_TB; i++) {
        const int t = t0 + i;
        if (t >= T) break;
        const int c = acc[i] - za[t * a_stride] * wsum;
        float v = (float) c * (sa[t * a_stride] * sw[n]);
        if (has_bias) v += bias[n];
        y[(size_t) t * N + n] = sl_activate(v, act);
    }
}

// S in CSR: row_ptr[N+1], col_idx[nnz], vals[nnz] (int8).
__kernel KERNEL_SHAPE void sparse_linear_csr(__global const int* row_ptr, __global const int* col_idx, __global const char* vals,
                                SL_PARAMS) {
    const int n = get_global_id(0), t0 = get_global_id(1) * SL_TB;
    if (n >= N || t0 >= T) return;
    __global const uchar* rows[SL_TB];
    for (int i = 0; i < SL_TB; i++) rows[i] = a + (size_t) min(t0 + i, T - 1) * K;
    int acc[SL_TB] = {0};
    int wsum = 0;
    for (int p = row_ptr[n]; p < row_ptr[n + 1]; p++) {
        const int k = col_idx[p], w = vals[p];
        wsum += w;
        for (int i = 0; i < SL_TB; i++) acc[i] += SL_A(rows[i], k) * w;
    }
    sl_store(acc, wsum, t0, n, T, K, N, a, a_flip, a_offset, sa, za, a_stride, sw, bias, has_bias, act, y);
}

// S in 2:4: per row ceil(K/4) index bytes (two 2-bit positions) and two values per group (see Sparse24Matrix).
__kernel KERNEL_SHAPE void sparse_linear_24(__global const uchar* idx, __global const char* vals, SL_PARAMS) {
    const int n = get_global_id(0), t0 = get_global_id(1) * SL_TB;
    if (n >= N || t0 >= T) return;
    __global const uchar* rows[SL_TB];
    for (int i = 0; i < SL_TB; i++) rows[i] = a + (size_t) min(t0 + i, T - 1) * K;
    const int groups = (K + 3) / 4;
    __global const uchar* ix = idx + (size_t) n * groups;
    __global const char* s = vals + (size_t) n * groups * 2;
    int acc[SL_TB] = {0};
    int wsum = 0;
    for (int g = 0; g < groups; g++) {
        const int k0 = 4 * g + (ix[g] & 3), k1 = 4 * g + ((ix[g] >> 2) & 3);
        const int w0 = s[2 * g], w1 = s[2 * g + 1];
        wsum += w0 + w1;
        for (int i = 0; i < SL_TB; i++) acc[i] += SL_A(rows[i], k0) * w0 + SL_A(rows[i], k1) * w1;
    }
    sl_store(acc, wsum, t0, n, T, K, N, a, a_flip, a_offset, sa, za, a_stride, sw, bias, has_bias, act, y);
}
