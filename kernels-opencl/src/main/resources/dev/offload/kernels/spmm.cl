// Sparse x dense matrix multiply: Y[M,N] = S[M,K] x B[K,N], S sparse (pruned weights), B and Y row-major.
//
// Shaped for CPUs (PoCL) and still valid anywhere: no local memory, no barriers. A work-item owns one row m
// of Y and a tile of TILE consecutive columns n0..n0+TILE-1, keeps the tile in SPMM_VECS 16-wide vector
// accumulators, and walks only the stored values of row m: for each stored value s at column k it loads row k
// of B (vload16, contiguous) and accumulates s * B[k, tile]. The work is therefore proportional to the stored
// values: at 90% sparsity a tenth of the dense multiply. The last tile of a row, when N is not a multiple of
// TILE, is done column by column.
//
// NDRange: global = {ceil(N / TILE), M}, any local size.
// int8: products are exact in int; accumulators are uint so that overflow wraps (defined behaviour) exactly
// like Java's int. float32: fma per term, stored order.

#ifndef SPMM_VECS
#define SPMM_VECS 2
#endif
#define TILE (16 * SPMM_VECS)

// The dequantize epilogue must round like the Java reference: no contraction of a*b+c into fma.
#pragma OPENCL FP_CONTRACT OFF

// ---- per-term accumulation of one 16 x SPMM_VECS tile ----

inline void mac_i8(uint16 acc[SPMM_VECS], const int s, __global const char* brow) {
    for (int v = 0; v < SPMM_VECS; v++) acc[v] += convert_uint16(convert_int16(vload16(v, brow)) * s);
}

inline void store_i8(const uint16 acc[SPMM_VECS], __global int* yrow) {
    for (int v = 0; v < SPMM_VECS; v++) vstore16(as_int16(acc[v]), v, yrow);
}

inline void mac_f32(float16 acc[SPMM_VECS], const float s, __global const float* brow) {
    for (int v = 0; v < SPMM_VECS; v++) acc[v] = fma((float16) s, vload16(v, brow), acc[v]);
}

inline void store_f32(const float16 acc[SPMM_VECS], __global float* yrow) {
    for (int v = 0; v < SPMM_VECS; v++) vstore16(acc[v], v, yrow);
}

// ---- CSR: rowPtr[M+1], colIdx[nnz], vals[nnz] ----

__kernel void spmm_csr_i8(const int M, const int N, __global const int* rowPtr, __global const int* colIdx,
                          __global const char* vals, __global const char* B, __global int* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int begin = rowPtr[m], end = rowPtr[m + 1];
    if (n0 + TILE <= N) {
        uint16 acc[SPMM_VECS];
        for (int v = 0; v < SPMM_VECS; v++) acc[v] = 0;
        for (int j = begin; j < end; j++) mac_i8(acc, vals[j], B + (size_t) colIdx[j] * N + n0);
        store_i8(acc, Y + (size_t) m * N + n0);
    } else {
        for (int n = n0; n < N; n++) {
            uint acc = 0;
            for (int j = begin; j < end; j++) acc += (uint) (vals[j] * B[(size_t) colIdx[j] * N + n]);
            Y[(size_t) m * N + n] = as_int(acc);
        }
    }
}

__kernel void spmm_csr_f32(const int M, const int N, __global const int* rowPtr, __global const int* colIdx,
                           __global const float* vals, __global const float* B, __global float* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int begin = rowPtr[m], end = rowPtr[m + 1];
    if (n0 + TILE <= N) {
        float16 acc[SPMM_VECS];
        for (int v = 0; v < SPMM_VECS; v++) acc[v] = 0;
        for (int j = begin; j < end; j++) mac_f32(acc, vals[j], B + (size_t) colIdx[j] * N + n0);
        store_f32(acc, Y + (size_t) m * N + n0);
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

__kernel void spmm_bsr_i8(const int M, const int K, const int N, const int R, const int C,
                          __global const int* blockRowPtr, __global const int* blockColIdx,
                          __global const char* vals, __global const char* B, __global int* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int begin = blockRowPtr[m / R], end = blockRowPtr[m / R + 1], r = m % R;
    if (n0 + TILE <= N) {
        uint16 acc[SPMM_VECS];
        for (int v = 0; v < SPMM_VECS; v++) acc[v] = 0;
        for (int j = begin; j < end; j++) {
            const int k0 = blockColIdx[j] * C, width = min(C, K - k0);
            __global const char* s = vals + ((size_t) j * R + r) * C;
            for (int c = 0; c < width; c++) mac_i8(acc, s[c], B + (size_t) (k0 + c) * N + n0);
        }
        store_i8(acc, Y + (size_t) m * N + n0);
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

__kernel void spmm_bsr_f32(const int M, const int K, const int N, const int R, const int C,
                           __global const int* blockRowPtr, __global const int* blockColIdx,
                           __global const float* vals, __global const float* B, __global float* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int begin = blockRowPtr[m / R], end = blockRowPtr[m / R + 1], r = m % R;
    if (n0 + TILE <= N) {
        float16 acc[SPMM_VECS];
        for (int v = 0; v < SPMM_VECS; v++) acc[v] = 0;
        for (int j = begin; j < end; j++) {
            const int k0 = blockColIdx[j] * C, width = min(C, K - k0);
            __global const float* s = vals + ((size_t) j * R + r) * C;
            for (int c = 0; c < width; c++) mac_f32(acc, s[c], B + (size_t) (k0 + c) * N + n0);
        }
        store_f32(acc, Y + (size_t) m * N + n0);
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

__kernel void spmm_24_i8(const int M, const int K, const int N, __global const uchar* idx,
                         __global const char* vals, __global const char* B, __global int* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int groups = (K + 3) / 4;
    __global const uchar* ix = idx + (size_t) m * groups;
    __global const char* s = vals + (size_t) m * groups * 2;
    if (n0 + TILE <= N) {
        uint16 acc[SPMM_VECS];
        for (int v = 0; v < SPMM_VECS; v++) acc[v] = 0;
        for (int g = 0; g < groups; g++) {
            const int p = ix[g];
            mac_i8(acc, s[2 * g], B + (size_t) (4 * g + (p & 3)) * N + n0);
            mac_i8(acc, s[2 * g + 1], B + (size_t) (4 * g + (p >> 2)) * N + n0);
        }
        store_i8(acc, Y + (size_t) m * N + n0);
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

__kernel void spmm_24_f32(const int M, const int K, const int N, __global const uchar* idx,
                          __global const float* vals, __global const float* B, __global float* Y) {
    const int n0 = get_global_id(0) * TILE, m = get_global_id(1);
    if (m >= M || n0 >= N) return;
    const int groups = (K + 3) / 4;
    __global const uchar* ix = idx + (size_t) m * groups;
    __global const float* s = vals + (size_t) m * groups * 2;
    if (n0 + TILE <= N) {
        float16 acc[SPMM_VECS];
        for (int v = 0; v < SPMM_VECS; v++) acc[v] = 0;
        for (int g = 0; g < groups; g++) {
            const int p = ix[g];
            mac_f32(acc, s[2 * g], B + (size_t) (4 * g + (p & 3)) * N + n0);
            mac_f32(acc, s[2 * g + 1], B + (size_t) (4 * g + (p >> 2)) * N + n0);
        }
        store_f32(acc, Y + (size_t) m * N + n0);
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

__kernel void spmm_dequantize(const int M, const int N, __global const int* acc, __global const float* rowScale,
                              const float bScale, __global const float* bias, const int hasBias,
                              __global float* Y) {
    const size_t i = get_global_id(0);
    if (i >= (size_t) M * N) return;
    const int m = (int) (i / N);
    const float y = convert_float(acc[i]) * rowScale[m] * bScale;
    Y[i] = hasBias ? y + bias[m] : y;
}
