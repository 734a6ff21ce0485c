// Element-wise, normalization, embedding and pooling ops of a transformer graph.
//
// Shaped for CPUs (PoCL): no local memory, no barriers. Row ops (norms, embedding rows) give one row to
// each work-item and walk it with 16-wide vector loads (vload16 only needs element alignment); element-wise
// ops give one element to each work-item and let the compiler vectorize across work-items.
// Sums are float32, in 16 lanes then a tree: the host reference sums in double, the difference is the
// float32 rounding of these sums (tolerances in LayersOpenClTest).

// Kernel style (host: dev.offload.device.KernelStyle). -D OFFLOAD_FPGA=1 builds the FPGA form: every kernel runs
// as single work-item work-groups (reqd_work_group_size(1,1,1), the form FPGA compilers pipeline) and the host
// launches it with a local size of 1. Without it the kernels take any work-group size.
#ifdef OFFLOAD_FPGA
#define KERNEL_SHAPE __attribute__((reqd_work_group_size(1, 1, 1)))
#else
#define KERNEL_SHAPE
#endif

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
