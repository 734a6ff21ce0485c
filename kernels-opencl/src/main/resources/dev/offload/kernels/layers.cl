// Element-wise, normalization, embedding and pooling ops of a transformer graph. Host side:
// dev.offload.ops.layers.LayersOpenCl; judge: LayersReference (its ONNX Runtime variant for layer_norm_onnx).
//
// Shaped for CPUs (PoCL): no local memory, no barriers. Row ops (norms, embedding rows) give one row to
// each work-item and walk it with 16-wide vector loads (vload16 only needs element alignment); element-wise
// ops give one element to each work-item and let the compiler vectorize across work-items.
// Sums are float32, in 16 lanes then a tree: the host reference sums in double, the difference is the
// float32 rounding of these sums (tolerances in LayersOpenClTest).

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"

#include "erf.clh"
#include "activation.clh"
// DynamicQuantizeLinear per group (layer_norm_dqg), the rules quantize.cl uses.
#include "dqg.clh"

inline float hsum16(float16 v) {
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}

inline float row_sum(const __global float* x, const int cols) {
    float16 acc = (float16)(0.0f);
    int c = 0;
    for (; c + 16 <= cols; c += 16) acc += vload16(0, x + c);
    float s = hsum16(acc);
    for (; c < cols; c++) s += x[c];
    return s;
}

// The row a layer norm normalizes: x's row, or (has_residual) x + residual, written into the output row first (one
// float addition per element, as the add kernel rounds it), which the norm then reads back and overwrites element
// by element. The row is the work-item's alone, so reading and writing it in place is safe.
inline const __global float* norm_input_row(const __global float* x, const __global float* residual, const int has_residual,
                                            __global float* yr, const int r, const int cols) {
    const __global float* xr = x + (size_t)r * cols;
    if (!has_residual) return xr;
    const __global float* rr = residual + (size_t)r * cols;
    int c = 0;
    for (; c + 16 <= cols; c += 16) vstore16(vload16(0, xr + c) + vload16(0, rr + c), 0, yr + c);
    for (; c < cols; c++) yr[c] = xr[c] + rr[c];
    return yr;
}

// y = (x [+ residual] - mean) / sqrt(var + eps) * gamma + beta of row r; two passes for a stable variance.
inline void layer_norm_row(__global const float* x, __global const float* residual, const int has_residual,
                           __global const float* gamma, __global const float* beta,
                           __global float* y, const int r, const int cols, const float eps, const int has_beta) {
    __global float* yr = y + (size_t)r * cols;
    const __global float* xr = norm_input_row(x, residual, has_residual, yr, r, cols);
    const float mean = row_sum(xr, cols) / cols;
    float16 acc = (float16)(0.0f);
    int c = 0;
    for (; c + 16 <= cols; c += 16) { float16 d = vload16(0, xr + c) - mean; acc = fma(d, d, acc); }
    float var = hsum16(acc);
    for (; c < cols; c++) { float d = xr[c] - mean; var = fma(d, d, var); }
    const float inv = rsqrt(var / cols + eps);
    c = 0;
    for (; c + 16 <= cols; c += 16) {
        float16 b = has_beta ? vload16(0, beta + c) : (float16)(0.0f);
        vstore16((vload16(0, xr + c) - mean) * inv * vload16(0, gamma + c) + b, 0, yr + c);
    }
    for (; c < cols; c++) yr[c] = (xr[c] - mean) * inv * gamma[c] + (has_beta ? beta[c] : 0.0f);
}

// layer_norm_row, one work-item per row.
__kernel KERNEL_SHAPE void layer_norm(__global const float* x, __global const float* residual, const int has_residual,
                         __global const float* gamma, __global const float* beta,
                         __global float* y, const int rows, const int cols, const float eps, const int has_beta) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    layer_norm_row(x, residual, has_residual, gamma, beta, y, r, cols, eps, has_beta);
}

// 1 / sqrt(mean(x^2) + eps) of one row: rms_norm's factor, shared with its fused form below.
inline float rms_inverse(const __global float* xr, const int cols, const float eps) {
    float16 acc = (float16)(0.0f);
    int c = 0;
    for (; c + 16 <= cols; c += 16) { float16 v = vload16(0, xr + c); acc = fma(v, v, acc); }
    float ss = hsum16(acc);
    for (; c < cols; c++) ss = fma(xr[c], xr[c], ss);
    return rsqrt(ss / cols + eps);
}

// y = x / sqrt(mean(x^2) + eps) * gamma; one work-item per row.
__kernel KERNEL_SHAPE void rms_norm(__global const float* x, __global const float* gamma, __global float* y,
                       const int rows, const int cols, const float eps) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const __global float* xr = x + (size_t)r * cols;
    __global float* yr = y + (size_t)r * cols;
    const float inv = rms_inverse(xr, cols, eps);
    int c = 0;
    for (; c + 16 <= cols; c += 16) vstore16(vload16(0, xr + c) * inv * vload16(0, gamma + c), 0, yr + c);
    for (; c < cols; c++) yr[c] = xr[c] * inv * gamma[c];
}

__kernel KERNEL_SHAPE void add(__global const float* a, __global const float* b, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = a[i] + b[i];
}

// silu(a) * b = a / (1 + exp(-a)) * b (Llama's SwiGLU).
inline float silu_times(const float a, const float b) { return a / (1.0f + exp(-a)) * b; }

__kernel KERNEL_SHAPE void silu_gate(__global const float* a, __global const float* b, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = silu_times(a[i], b[i]);
}

// ---- Fused producers of block-quantized activations ------------------------------------------------------
// A norm or SwiGLU whose result feeds only block-quantized linears, quantized in the same launch by
// q8_block.clh's rule (quantize.cl's block_int8): the float values are the unfused kernel's expressions, so the
// result is exactly rms_norm (or silu_gate) then block_int8. Work-item 0 writes the one zero point, 0.
// Host side: DecoderKernels; judge: LayersReference then QuantizeReference.perBlockInt8.
#include "q8_block.clh"

// rms_norm then block_int8, one work-item per row (cols a multiple of 32): q [rows][cols], scales [rows][cols/32].
__kernel KERNEL_SHAPE void rms_norm_block_int8(__global const float* x, __global const float* gamma, const int rows,
                                               const int cols, const float eps, __global char* q, __global float* scales,
                                               __global int* zero_point) {
    const int r = get_global_id(0);
    if (r == 0) zero_point[0] = 0;
    if (r >= rows) return;
    const __global float* xr = x + (size_t)r * cols;
    const float inv = rms_inverse(xr, cols, eps);
    for (int c = 0; c < cols; c += 32) {
        const float16 v0 = vload16(0, xr + c) * inv * vload16(0, gamma + c);
        const float16 v1 = vload16(0, xr + c + 16) * inv * vload16(0, gamma + c + 16);
        const size_t o = (size_t)r * cols + c;
        q8_block(v0, v1, q + o, scales + o / 32);
    }
}

// Gated products GATE(a) * b then block_int8, one work-item per block of 32 elements, GATE on 16 lanes at once. (Two
// written-out kernels, not a macro that makes both: the bitstream manifests find kernels by their __kernel lines.)
#define GATED_BLOCK_BODY(GATE)                                                                                   \
    const int blk = get_global_id(0);                                                                            \
    if (blk == 0) zero_point[0] = 0;                                                                             \
    if (blk >= blocks) return;                                                                                   \
    const size_t o = (size_t) blk * 32;                                                                          \
    const float16 a0 = vload16(0, a + o), a1 = vload16(1, a + o);                                                \
    q8_block(GATE(a0) * vload16(0, b + o), GATE(a1) * vload16(1, b + o), q + o, scales + blk);

// silu_gate then block_int8: silu_times on 16 lanes at once (the same operations per lane; PoCL's float16 exp gave
// its scalar exp's bits on 2^20 values of [-6, 6]): 1.95 -> 1.16 ms for a 128 x 8192 prefill on the 2-core machine.
#define SILU16(x) ((x) / (1.0f + exp(-(x))))
__kernel KERNEL_SHAPE void silu_gate_block_int8(__global const float* a, __global const float* b, const int blocks,
                                                __global char* q, __global float* scales, __global int* zero_point) {
    GATED_BLOCK_BODY(SILU16)
}

// gelu_tanh(a) * b (GeGLU, Gemma's gated feed-forward) then block_int8: the reference's LayersReference.geluGate
// within GELU's float32 bound.
__kernel KERNEL_SHAPE void gelu_gate_block_int8(__global const float* a, __global const float* b, const int blocks,
                                                __global char* q, __global float* scales, __global int* zero_point) {
    GATED_BLOCK_BODY(OFFLOAD_GELU_TANH)
}

__kernel KERNEL_SHAPE void gelu_erf(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) { const float v = x[i]; y[i] = v * (offload_erf(v / 1.4142135f) + 1.0f) * 0.5f; }   // Activation.geluErf
}

__kernel KERNEL_SHAPE void gelu_tanh(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) {
        const float v = x[i];
        y[i] = OFFLOAD_GELU_TANH(v);
    }
}

// One token row per work-item: row = ids[t] (token) or offset + t % seq (position).
__kernel KERNEL_SHAPE void embedding_f32(__global const int* ids, __global const float* table, __global float* y,
                            const int tokens, const int seq, const int dim, const int by_position, const int offset) {
    const int t = get_global_id(0);
    if (t >= tokens) return;
    const int row = by_position ? offset + t % seq : ids[t];
    const __global float* src = table + (size_t)row * dim;
    __global float* dst = y + (size_t)t * dim;
    int c = 0;
    for (; c + 16 <= dim; c += 16) vstore16(vload16(0, src + c), 0, dst + c);
    for (; c < dim; c++) dst[c] = src[c];
}

__kernel KERNEL_SHAPE void embedding_i8(__global const int* ids, __global const char* table, __global const float* row_scales,
                           __global float* y, const int tokens, const int seq, const int dim, const int by_position,
                           const int offset) {
    const int t = get_global_id(0);
    if (t >= tokens) return;
    const int row = by_position ? offset + t % seq : ids[t];
    const __global char* src = table + (size_t)row * dim;
    const float s = row_scales[row];
    __global float* dst = y + (size_t)t * dim;
    int c = 0;
    for (; c + 16 <= dim; c += 16) vstore16(convert_float16(vload16(0, src + c)) * s, 0, dst + c);
    for (; c < dim; c++) dst[c] = (float)src[c] * s;
}

// Mean of the first lengths[b] tokens (all seq when has_lengths == 0): x [B, S, H] -> y [B, H].
// Work-item (h, b); neighbouring work-items read neighbouring h, so the compiler vectorizes across them.
__kernel KERNEL_SHAPE void mean_pool(__global const float* x, __global const int* lengths, __global float* y,
                        const int seq, const int hidden, const int has_lengths) {
    const int h = get_global_id(0), b = get_global_id(1);
    if (h >= hidden) return;
    const int len = has_lengths ? clamp(lengths[b], 0, seq) : seq;
    float s = 0.0f;
    for (int t = 0; t < len; t++) s += x[((size_t)b * seq + t) * hidden + h];
    y[(size_t)b * hidden + h] = len == 0 ? 0.0f : s / len;
}

// ---- ONNX Runtime's rounding -----------------------------------------------------------------------------
// The kernels below reproduce, operation for operation, how ONNX Runtime's CPU provider rounds an exported BERT
// graph's LayerNorm (attention: attention.cl's attention_onnx; judge: dev.offload.math.OnnxRuntimeCpu, which they must match bit for bit), so
// that imported int8 models re-quantize exactly the values ONNX Runtime re-quantizes. Hence: no contraction of
// a * b + c into fma (every fma below is written out, where ORT's kernels use one), correctly rounded division
// and sqrt (the program is built with -cl-fp32-correctly-rounded-divide-sqrt), and sums in ORT's order.
#pragma OPENCL FP_CONTRACT OFF

// Element i of a row for onnx_sum: x[i], or (x[i] - mean)^2 (Sub then Pow(., 2), two roundings).
inline float4 onnx_load4(const __global float* x, const int i, const float mean, const int squares) {
    const float4 v = vload4(0, x + i);
    if (!squares) return v;
    const float4 d = v - mean;
    return d * d;
}

inline float onnx_elem(const __global float* x, const int i, const float mean, const int squares) {
    if (!squares) return x[i];
    const float d = x[i] - mean;
    return d * d;
}

// Eigen's vectorized sum (ReduceMean's): two 4-lane accumulators take alternate packets, add lane by lane, a last
// odd packet joins, the lanes reduce as (l0 + l2) + (l1 + l3), then the elements past the last packet one by one.
inline float onnx_sum(const __global float* x, const int n, const float mean, const int squares) {
    if (n < 4) {
        float s = onnx_elem(x, 0, mean, squares);
        for (int i = 1; i < n; i++) s += onnx_elem(x, i, mean, squares);
        return s;
    }
    const int end = n / 4 * 4, pairs_end = n / 8 * 8;
    float4 a = onnx_load4(x, 0, mean, squares);
    int i = 4;
    if (end > 4) {
        float4 b = onnx_load4(x, 4, mean, squares);
        for (i = 8; i < pairs_end; i += 8) {
            a += onnx_load4(x, i, mean, squares);
            b += onnx_load4(x, i + 4, mean, squares);
        }
        a += b;
        if (end > pairs_end) a += onnx_load4(x, pairs_end, mean, squares);
        i = end;
    }
    float s = (a.s0 + a.s2) + (a.s1 + a.s3);
    for (; i < n; i++) s += onnx_elem(x, i, mean, squares);
    return s;
}

// The decomposed LayerNorm node by node: mean = ReduceMean(x); var = ReduceMean((x - mean)^2);
// y = (x - mean) / Sqrt(var + eps) * gamma + beta, of x + residual with has_residual (the residual Add before it),
// of row r.
inline void layer_norm_onnx_row(__global const float* x, __global const float* residual, const int has_residual,
                                __global const float* gamma, __global const float* beta,
                                __global float* y, const int r, const int cols, const float eps, const int has_beta) {
    __global float* yr = y + (size_t) r * cols;
    const __global float* xr = norm_input_row(x, residual, has_residual, yr, r, cols);
    const float mean = onnx_sum(xr, cols, 0.0f, 0) / (float) cols;
    const float var = onnx_sum(xr, cols, mean, 1) / (float) cols;
    const float std = sqrt(var + eps);
    int c = 0;
    for (; c + 16 <= cols; c += 16) {
        const float16 v = (vload16(0, xr + c) - mean) / std * vload16(0, gamma + c);
        vstore16(has_beta ? v + vload16(0, beta + c) : v, 0, yr + c);
    }
    for (; c < cols; c++) {
        const float v = (xr[c] - mean) / std * gamma[c];
        yr[c] = has_beta ? v + beta[c] : v;
    }
}

// layer_norm_onnx_row, one work-item per row.
__kernel KERNEL_SHAPE void layer_norm_onnx(__global const float* x, __global const float* residual, const int has_residual,
                                           __global const float* gamma, __global const float* beta,
                                           __global float* y, const int rows, const int cols, const float eps, const int has_beta) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    layer_norm_onnx_row(x, residual, has_residual, gamma, beta, y, r, cols, eps, has_beta);
}

// A layer norm that quantizes its own output per group of rows (per sentence), as a layer norm node followed by a
// per-group DynamicQuantizeLinear (dqg.clh) would: one work-item per group normalizes the group's rows into y
// (layer_norm_onnx_row with onnx, else layer_norm_row: the same bits as those kernels), then scans them, still in
// cache, and quantizes them into q. One launch where there were two: on PoCL each boundary costs tens of
// microseconds while a worker wakes (docs/cpu-speed.md). The host takes this kernel only where the quantize
// alone would run a work-item per group too (Quantize.inOneLaunch), so no parallelism is given up. Each row gets
// its group's (scale, zero point) in row_scales, row_zero_points; the group's range counts its first
// lengths[g] rows (dqg_count).
__kernel KERNEL_SHAPE void layer_norm_dqg(__global const float* x, __global const float* residual, const int has_residual,
                                          __global const float* gamma, __global const float* beta, __global float* y,
                                          const int rows_per_group, const int cols, const float eps, const int has_beta,
                                          const int onnx, __global const int* lengths, const int has_lengths,
                                          __global uchar* q, __global float* row_scales, __global int* row_zero_points) {
    const int g = get_global_id(0);
    const size_t first = (size_t) g * rows_per_group;
    for (int i = 0; i < rows_per_group; i++) {
        if (onnx) layer_norm_onnx_row(x, residual, has_residual, gamma, beta, y, (int) first + i, cols, eps, has_beta);
        else layer_norm_row(x, residual, has_residual, gamma, beta, y, (int) first + i, cols, eps, has_beta);
    }
    // The group's own (scale, zero point) go to its first row's slots, which the row loop then writes again with
    // the same values: the node outputs per row only.
    dqg_quantize_group(y + first * cols, q + first * cols, cols, rows_per_group, dqg_count(g, rows_per_group, lengths, has_lengths),
                       row_scales + first, row_zero_points + first, 1, row_scales + first, row_zero_points + first);
}

// ---- Decoder positions -----------------------------------------------------------------------------------
// Still under FP_CONTRACT OFF: the rotation's products and sums round one by one, as LayersReference.rope does.

// RoPE: one work-item per head row (head h of token t), rotating its pairs (2i, 2i+1) (llama) or (i, i + d/2)
// (halves: NeoX, Qwen2) by the angles of the token's position, whose cosines and sines come from the host-made
// tables [positions][d/2]. Eight pairs at a time on vectors (the same products and sums per lane as one pair
// alone), the rest one by one. A position outside the tables gives NaN (the reference's rule), never a read out of
// bounds. A work-item per pair ran a 128-token prefill's 16 layers in 13.6 ms on the 2-core machine, this in 3.
inline void rope_row(__global const float* x, __global float* y, const size_t o, const int head_dim, const int halves,
                     __global const float* cos_row, __global const float* sin_row, const int inside) {
    const int pairs = head_dim / 2;   // ("half" is a type in OpenCL C)
    int i = 0;
    for (; i + 8 <= pairs; i += 8) {
        const float8 c = inside ? vload8(0, cos_row + i) : (float8)(NAN);
        const float8 s = inside ? vload8(0, sin_row + i) : (float8)(NAN);
        float8 x0, x1;
        if (halves) {
            x0 = vload8(0, x + o + i);
            x1 = vload8(0, x + o + i + pairs);
        } else {
            const float16 v = vload16(0, x + o + 2 * i);
            x0 = v.even;
            x1 = v.odd;
        }
        const float8 p00 = x0 * c, p11 = x1 * s, p01 = x0 * s, p10 = x1 * c;
        const float8 y0 = p00 - p11, y1 = p01 + p10;
        if (halves) {
            vstore8(y0, 0, y + o + i);
            vstore8(y1, 0, y + o + i + pairs);
        } else {
            float16 r;
            r.even = y0;
            r.odd = y1;
            vstore16(r, 0, y + o + 2 * i);
        }
    }
    for (; i < pairs; i++) {
        const float c = inside ? cos_row[i] : NAN, s = inside ? sin_row[i] : NAN;
        const size_t a = halves ? o + i : o + 2 * i;
        const size_t b = halves ? o + i + pairs : o + 2 * i + 1;
        const float x0 = x[a], x1 = x[b];
        const float p00 = x0 * c, p11 = x1 * s, p01 = x0 * s, p10 = x1 * c;
        y[a] = p00 - p11;
        y[b] = p01 + p10;
    }
}

// Head h of token t of x [tokens][heads * head_dim] into y at the position positions[t].
inline void rope_head(__global const float* x, __global const int* positions, __global const float* cos_table,
                      __global const float* sin_table, __global float* y, const int heads, const int head_dim,
                      const int halves, const int table_positions, const int h, const int t) {
    const int p = positions[t];
    const int inside = p >= 0 && p < table_positions;
    const size_t row = inside ? (size_t)p * (head_dim / 2) : 0;
    rope_row(x, y, ((size_t)t * heads + h) * head_dim, head_dim, halves, cos_table + row, sin_table + row, inside);
}

// Work-item (head h, token t).
__kernel KERNEL_SHAPE void rope(__global const float* x, __global const int* positions, __global const float* cos_table,
                                __global const float* sin_table, __global float* y, const int heads, const int head_dim,
                                const int halves, const int table_positions) {
    const int h = get_global_id(0), t = get_global_id(1);
    if (h >= heads) return;
    rope_head(x, positions, cos_table, sin_table, y, heads, head_dim, halves, table_positions, h, t);
}

// RoPE of a layer's queries and keys in one launch (one pair of tables): work-item (head h, token t), the heads
// q_heads.. q_heads + k_heads - 1 being the keys'. Each is exactly rope's work-item.
__kernel KERNEL_SHAPE void rope_query_key(__global const float* q, __global const float* k, __global const int* positions,
                                          __global const float* cos_table, __global const float* sin_table,
                                          __global float* yq, __global float* yk, const int q_heads, const int k_heads,
                                          const int head_dim, const int halves, const int table_positions) {
    const int h = get_global_id(0), t = get_global_id(1);
    if (h < q_heads) rope_head(q, positions, cos_table, sin_table, yq, q_heads, head_dim, halves, table_positions, h, t);
    else if (h < q_heads + k_heads) rope_head(k, positions, cos_table, sin_table, yk, k_heads, head_dim, halves, table_positions, h - q_heads, t);
}

// The last token's row of each sequence: x [B, S, C] -> y [B, 1, C]; work-item (c, b).
__kernel KERNEL_SHAPE void last_token(__global const float* x, __global float* y, const int seq, const int cols) {
    const int c = get_global_id(0), b = get_global_id(1);
    if (c < cols) y[(size_t)b * cols + c] = x[((size_t)(b + 1) * seq - 1) * cols + c];
}
