// Element-wise, normalization, embedding and pooling ops of a transformer graph.
//
// Shaped for CPUs (PoCL): no local memory, no barriers. Row ops (norms, embedding rows) give one row to
// each work-item and walk it with 16-wide vector loads (vload16 only needs element alignment); element-wise
// ops give one element to each work-item and let the compiler vectorize across work-items.
// Sums are float32, in 16 lanes then a tree: the host reference sums in double, the difference is the
// float32 rounding of these sums (tolerances in LayersOpenClTest).

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"

#include "erf.clh"

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

// y = (x - mean) / sqrt(var + eps) * gamma + beta; one work-item per row; two passes for a stable variance.
__kernel KERNEL_SHAPE void layer_norm(__global const float* x, __global const float* gamma, __global const float* beta,
                         __global float* y, const int rows, const int cols, const float eps, const int has_beta) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const __global float* xr = x + (size_t)r * cols;
    __global float* yr = y + (size_t)r * cols;
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

// y = x / sqrt(mean(x^2) + eps) * gamma; one work-item per row.
__kernel KERNEL_SHAPE void rms_norm(__global const float* x, __global const float* gamma, __global float* y,
                       const int rows, const int cols, const float eps) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const __global float* xr = x + (size_t)r * cols;
    __global float* yr = y + (size_t)r * cols;
    float16 acc = (float16)(0.0f);
    int c = 0;
    for (; c + 16 <= cols; c += 16) { float16 v = vload16(0, xr + c); acc = fma(v, v, acc); }
    float ss = hsum16(acc);
    for (; c < cols; c++) ss = fma(xr[c], xr[c], ss);
    const float inv = rsqrt(ss / cols + eps);
    c = 0;
    for (; c + 16 <= cols; c += 16) vstore16(vload16(0, xr + c) * inv * vload16(0, gamma + c), 0, yr + c);
    for (; c < cols; c++) yr[c] = xr[c] * inv * gamma[c];
}

__kernel KERNEL_SHAPE void add(__global const float* a, __global const float* b, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = a[i] + b[i];
}

// silu(a) * b = a / (1 + exp(-a)) * b (Llama's SwiGLU).
__kernel KERNEL_SHAPE void silu_gate(__global const float* a, __global const float* b, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) { const float v = a[i]; y[i] = v / (1.0f + exp(-v)) * b[i]; }
}

__kernel KERNEL_SHAPE void gelu_erf(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) { const float v = x[i]; y[i] = v * (offload_erf(v / 1.4142135f) + 1.0f) * 0.5f; }   // Activation.geluErf
}

__kernel KERNEL_SHAPE void gelu_tanh(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) {
        const float v = x[i];
        y[i] = 0.5f * v * (1.0f + tanh(0.7978845608f * (v + 0.044715f * v * v * v)));
    }
}

// (q - zero_point) * scale; one group (scale, zero point) for the tensor when groups == 1, else one per row.
__kernel KERNEL_SHAPE void dequantize(__global const uchar* q, __global const float* scales, __global const int* zero_points,
                         __global float* y, const int n, const int cols, const int groups, const int is_unsigned) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const int g = groups == 1 ? 0 : i / cols;
    const int v = is_unsigned ? (int)q[i] : (int)as_char(q[i]);
    y[i] = (float)(v - zero_points[g]) * scales[g];
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
// graph's LayerNorm and attention (judge: dev.offload.math.OnnxRuntimeCpu, which they must match bit for bit), so
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
// y = (x - mean) / Sqrt(var + eps) * gamma + beta. One work-item per row.
__kernel KERNEL_SHAPE void layer_norm_onnx(__global const float* x, __global const float* gamma, __global const float* beta,
                                           __global float* y, const int rows, const int cols, const float eps, const int has_beta) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const __global float* xr = x + (size_t) r * cols;
    __global float* yr = y + (size_t) r * cols;
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

// exp(x + neg_max) as MLAS's AVX-512F sum-of-exponentials kernel, 16 lanes at a time (the kernel's own width): clamp
// at -103.97, m = round(x / ln 2) by the 1.5 * 2^23 trick, reduced argument in two fma steps, degree-6 polynomial in
// fma steps, times 2^m (one rounding).
inline float16 onnx_exp_shifted16(const float16 x, const float neg_max) {
    float16 v = fmax((float16) (-103.9720840454f), x + neg_max);
    const float16 biased = fma(v, (float16) 1.44269504088896341f, (float16) 12582912.0f);
    const float16 m = biased - 12582912.0f;
    v = fma(m, (float16) (-6.93145752e-1f), v);
    v = fma(m, (float16) (-1.42860677e-6f), v);
    float16 p = (float16) 0x1.694000p-10f;
    p = fma(p, v, (float16) 0x1.125edcp-7f);
    p = fma(p, v, (float16) 0x1.555b5ap-5f);
    p = fma(p, v, (float16) 0x1.555450p-3f);
    p = fma(p, v, (float16) 0x1.fffff6p-2f);
    p = fma(p, v, (float16) 1.0f);
    p = fma(p, v, (float16) 1.0f);
    return ldexp(p, convert_int16(m));
}

// K of each (batch, kv head) as columns: kt [B*Hkv][D][Skv16] (Skv16 = Skv rounded up to 16, zero beyond Skv), so
// that a query's scores against 16 keys are the 16 lanes of one vector. Work-item (key j, b*Hkv + kv head).
__kernel KERNEL_SHAPE void keys_to_columns(__global const float* k, __global float* kt, const int Skv, const int Skv16,
                                           const int Hkv, const int D) {
    const int j = get_global_id(0), bh = get_global_id(1);
    if (j >= Skv16) return;
    const int b = bh / Hkv, hk = bh % Hkv;
    __global float* dst = kt + (size_t) bh * D * Skv16 + j;
    const __global float* src = k + ((size_t) b * Skv + j) * Hkv * D + (size_t) hk * D;
    for (int d = 0; d < D; d++) dst[(size_t) d * Skv16] = j < Skv ? src[d] : 0.0f;
}

// Attention of an exported BERT graph: scores (q.k) / divisor, each an fma chain over d (16 keys at a time, one per
// lane); MLAS's softmax (exps summed in 16 lanes by key index mod 16, the lanes reduced in the kernel's tree, each
// exp times 1 / sum); each output element an fma chain over the keys in order. q and out are token-major
// [B, Sq, H*D], kt from keys_to_columns, v [B, Skv, Hkv*D]; keys past lengths[b] are ignored (has_lengths), a row
// without keys is zeros. One work-item per (query row, b*H + h); scratch [B*H*Sq][Skv16] holds the row's scores,
// then its probabilities.
__kernel KERNEL_SHAPE void attention_onnx(__global const float* q, __global const float* kt, __global const float* v,
                                          __global const int* lengths, const int has_lengths, __global float* out,
                                          __global float* scratch, const int Sq, const int Skv, const int Skv16, const int H,
                                          const int Hkv, const int D, const float divisor) {
    const int i = get_global_id(0), bh = get_global_id(1);
    if (i >= Sq) return;
    const int b = bh / H, h = bh % H, hk = h / (H / Hkv);
    const int n = has_lengths ? clamp(lengths[b], 0, Skv) : Skv;
    const size_t kv_stride = (size_t) Hkv * D;
    const __global float* qr = q + ((size_t) b * Sq + i) * H * D + (size_t) h * D;
    const __global float* kb = kt + ((size_t) b * Hkv + hk) * D * Skv16;
    const __global float* vb = v + (size_t) b * Skv * kv_stride + (size_t) hk * D;
    __global float* p = scratch + ((size_t) bh * Sq + i) * Skv16;
    __global float* o = out + ((size_t) b * Sq + i) * H * D + (size_t) h * D;
    const int16 lane = (int16) (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    float16 max16 = (float16) (-INFINITY);
    for (int j0 = 0; j0 < n; j0 += 16) {
        float16 acc = (float16) 0.0f;
        for (int d = 0; d < D; d++) acc = fma((float16) qr[d], vload16(0, kb + (size_t) d * Skv16 + j0), acc);
        const float16 s = acc / divisor;
        vstore16(s, 0, p + j0);
        max16 = select(max16, fmax(max16, s), lane + j0 < n);
    }
    float8 m8 = fmax(max16.lo, max16.hi);
    float4 m4 = fmax(m8.lo, m8.hi);
    const float max = fmax(fmax(m4.s0, m4.s1), fmax(m4.s2, m4.s3));

    float16 lanes = (float16) 0.0f;   // lane l sums the exps of keys l, l + 16, l + 32, ... in order
    for (int j0 = 0; j0 < n; j0 += 16) {
        const float16 e = select((float16) 0.0f, onnx_exp_shifted16(vload16(0, p + j0), -max), lane + j0 < n);
        vstore16(e, 0, p + j0);
        lanes += e;
    }
    const float8 a = lanes.lo + lanes.hi;
    const float sum = ((a.s0 + a.s1) + (a.s2 + a.s3)) + ((a.s4 + a.s5) + (a.s6 + a.s7));
    const float inv = 1.0f / sum;
    for (int j0 = 0; j0 < n; j0 += 16) vstore16(vload16(0, p + j0) * inv, 0, p + j0);

    // Output: 16 elements at a time, each lane its own fma chain over the keys (lane-wise fma is the scalar one).
    int d0 = 0;
    for (; d0 + 16 <= D; d0 += 16) {
        float16 acc = (float16) 0.0f;
        for (int j = 0; j < n; j++) acc = fma((float16) p[j], vload16(0, vb + j * kv_stride + d0), acc);
        vstore16(acc, 0, o + d0);
    }
    for (; d0 < D; d0++) {
        float acc = 0.0f;
        for (int j = 0; j < n; j++) acc = fma(p[j], vb[j * kv_stride + d0], acc);
        o[d0] = acc;
    }
}

// onnx_exp_shifted on 16 lanes, each with its own shift: every lane runs the scalar sequence, so each gives its bits.
inline float16 onnx_exp_shifted_lanes(const float16 x, const float16 neg_max) {
    float16 v = fmax((float16) -103.9720840454f, x + neg_max);
    const float16 biased = fma(v, (float16) 1.44269504088896341f, (float16) 12582912.0f);
    const float16 m = biased - 12582912.0f;
    v = fma(m, (float16) -6.93145752e-1f, v);
    v = fma(m, (float16) -1.42860677e-6f, v);
    float16 p = (float16) 0x1.694000p-10f;
    p = fma(p, v, (float16) 0x1.125edcp-7f);
    p = fma(p, v, (float16) 0x1.555b5ap-5f);
    p = fma(p, v, (float16) 0x1.555450p-3f);
    p = fma(p, v, (float16) 0x1.fffff6p-2f);
    p = fma(p, v, (float16) 1.0f);
    p = fma(p, v, (float16) 1.0f);
    return ldexp(p, convert_int16(m));
}

// attention_onnx for 16 query rows at once, one row per vector lane (the CPU shape, as attention_fused_rows):
// each lane performs exactly attention_onnx's operations for its row in the same order, so the results are the
// same bits, 16 rows per instruction. Scores and weights go to scratch as [b*H + h][row block][key][16 lanes].
// Work-item (row block, b*H + h); rows past Sq are computed on a clamped copy and not stored.
__kernel KERNEL_SHAPE void attention_onnx_rows(__global const float* q, __global const float* k, __global const float* v,
                                               __global const int* lengths, const int has_lengths, __global float* out,
                                               __global float* scratch, const int Sq, const int Skv, const int H, const int Hkv,
                                               const int D, const float divisor) {
    const int blk = get_global_id(0), bh = get_global_id(1);
    const int i0 = blk * 16;
    if (i0 >= Sq) return;
    const int b = bh / H, h = bh % H, hk = h / (H / Hkv);
    const int rows = min(16, Sq - i0);
    const int n = has_lengths ? clamp(lengths[b], 0, Skv) : Skv;
    const size_t kv_stride = (size_t) Hkv * D;
    const __global float* kb = k + (size_t) b * Skv * kv_stride + (size_t) hk * D;
    const __global float* vb = v + (size_t) b * Skv * kv_stride + (size_t) hk * D;
    // Scratch per work-item: [Skv][16] scores/weights, then the 16 query rows transposed into lanes ([D][16]: vector d
    // holds element d of every row), written once. In global memory (it stays in L1), not a private array: PoCL keeps
    // private arrays on its worker threads' stacks, and a 16 KiB one crashed a worker (SIGSEGV).
    __global float* p = scratch + ((size_t) bh * ((Sq + 15) / 16) + blk) * (size_t) (Skv + D) * 16;
    __global float* qt = p + (size_t) Skv * 16;
    for (int d = 0; d < D; d++) {
        for (int r = 0; r < 16; r++) qt[d * 16 + r] = q[((size_t) b * Sq + i0 + min(r, rows - 1)) * H * D + (size_t) h * D + d];
    }

    float16 max = (float16) -INFINITY;
    for (int j = 0; j < n; j++) {
        const __global float* kr = kb + j * kv_stride;
        float16 acc = (float16) 0.0f;
        for (int d = 0; d < D; d++) acc = fma(vload16(d, qt), (float16) kr[d], acc);
        const float16 s = acc / divisor;
        vstore16(s, j, p);
        max = fmax(max, s);
    }
    float16 lanes[16];
    for (int l = 0; l < 16; l++) lanes[l] = (float16) 0.0f;
    for (int j = 0; j < n; j++) {
        const float16 e = onnx_exp_shifted_lanes(vload16(j, p), -max);
        vstore16(e, j, p);
        lanes[j % 16] += e;
    }
    float16 a[8];
    for (int l = 0; l < 8; l++) a[l] = lanes[l] + lanes[l + 8];
    const float16 sum = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    const float16 inv = 1.0f / sum;
    for (int j = 0; j < n; j++) vstore16(vload16(j, p) * inv, j, p);

    for (int d = 0; d < D; d++) {
        float16 acc = (float16) 0.0f;
        for (int j = 0; j < n; j++) acc = fma(vload16(j, p), (float16) vb[j * kv_stride + d], acc);
        for (int r = 0; r < rows; r++) out[((size_t) b * Sq + i0 + r) * H * D + (size_t) h * D + d] = ((const float*) &acc)[r];
    }
}
