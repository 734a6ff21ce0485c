// Quantize and dequantize kernels. Host side: dev.offload.ops.quant.Quantize; judge: QuantizeReference.
// Build with -cl-fp32-correctly-rounded-divide-sqrt: x / scale must round exactly as Java's float division,
// because a quotient one ulp off can round to the other integer and break bit-exactness.
//
// Values that are not finite (QuantizeReference's rule): a group (tensor, sentence or row) whose counted values hold a
// NaN or an infinity has no finite step, so its scale is NaN, its zero point 0 and its values quantize to 0, and all
// that is computed from it is NaN (an integer holds neither NaN nor infinity; quantizing around the value would hide
// it behind finite numbers). fmin and fmax skip NaN, so NaN is looked for on its own; a quotient is converted with
// saturation (_sat: NaN gives 0, an infinity the end of the range), never with an out-of-range cast.

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"

// ---- DynamicQuantizeLinear (ONNX): uint8, per tensor -------------------------------------------------
// Stage 1: work-item i reduces x[i*per_item, (i+1)*per_item) to (min, max) in partial[2i], partial[2i+1].
__kernel KERNEL_SHAPE void dql_min_max(__global const float* x, const int n, const int per_item, __global float* partial) {
    const int i = get_global_id(0);
    const int begin = i * per_item;
    const int end = min(n, begin + per_item);
    float lo = INFINITY, hi = -INFINITY;
    int nan = 0;
    for (int k = begin; k < end; k++) {
        lo = fmin(lo, x[k]);
        hi = fmax(hi, x[k]);
        nan |= isnan(x[k]);
    }
    partial[2 * i] = nan ? NAN : lo;
    partial[2 * i + 1] = hi;
}

// Whether a partial (lo, hi) saw a value that is not finite. An item with no values reports (+inf, -inf), which is
// not one: a real -inf shows in lo, a real +inf in hi, a NaN as lo = NaN.
inline int dq_not_finite(const float lo, const float hi) { return isnan(lo) || lo == -INFINITY || hi == INFINITY; }

// round_half_even(x / scale) + zero_point as an int, saturating (NaN: the zero point; +-inf: the far end).
inline int dq_round(const float quotient, const int zero_point) { return add_sat(convert_int_sat_rte(quotient), zero_point); }

// ONNX Runtime's scale for the range [lo, hi] (which includes 0): (hi - lo) / 255, and 1 for an empty range (an
// all-zero input: zero point 0, every y 0). The one rule of every uint8 quantize kernel here and of the reference.
inline float dql_scale(const float lo, const float hi) { return hi == lo ? 1.0f : (hi - lo) / 255.0f; }

// Stage 2 (one work-item): the scale and zero point, ONNX's formulas in float:
//   scale = dql_scale(min(0, min x), max(0, max x));  zero_point = saturate(round_half_even(0 - min / scale))
__kernel KERNEL_SHAPE void dql_params(__global const float* partial, const int count, __global float* scale_out,
                         __global int* zero_point_out) {
    float lo = 0.0f, hi = 0.0f;
    int bad = 0;
    for (int i = 0; i < count; i++) {
        lo = fmin(lo, partial[2 * i]);
        hi = fmax(hi, partial[2 * i + 1]);
        bad |= dq_not_finite(partial[2 * i], partial[2 * i + 1]);
    }
    const float scale = bad ? NAN : dql_scale(lo, hi);
    *scale_out = scale;
    *zero_point_out = bad ? 0 : (int) clamp(rint(0.0f - lo / scale), 0.0f, 255.0f);
}

// Stage 3: y = saturate(round_half_even(x / scale) + zero_point).
__kernel KERNEL_SHAPE void dql_apply(__global const float* x, const int n, __global const float* scale_in,
                        __global const int* zero_point_in, __global uchar* y) {
    const int i = get_global_id(0);
    if (i >= n) return;
    y[i] = (uchar) clamp(dq_round(x[i] / *scale_in, *zero_point_in), 0, 255);
}

// ---- Symmetric int8 per row ----------------------------------------------------------------------------
// scale[r] = max|x[r,:]| / 127;  q = clamp(round_half_even(x / scale), -127, 127); a zero row: scale 0, q 0;
// a row with a NaN or an infinity: scale NaN, q 0.
// One work-item per row: it needs the row's maximum before it can quantize any element. With write_zero_points,
// it also writes the row's zero point (always 0) into zero_points, which the graph's quantize node outputs: a
// kernel, not a buffer fill, so that a recorded run keeps the node inside its command buffer.
__kernel KERNEL_SHAPE void symmetric_rows(__global const float* x, const int rows, const int cols,
                             __global char* q, __global float* scales, __global int* zero_points,
                             const int write_zero_points) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    if (write_zero_points) zero_points[r] = 0;
    __global const float* row = x + (size_t) r * cols;
    float m = 0.0f;
    int bad = 0;
    for (int k = 0; k < cols; k++) {
        m = fmax(m, fabs(row[k]));
        bad |= !isfinite(row[k]);
    }
    const float scale = bad ? NAN : m / 127.0f;
    scales[r] = scale;
    __global char* out = q + (size_t) r * cols;
    for (int k = 0; k < cols; k++) {
        out[k] = scale == 0.0f || bad ? 0 : (char) clamp(rint(row[k] / scale), -127.0f, 127.0f);
    }
}

// ---- Dequantize ----------------------------------------------------------------------------------------
// y = (q - zero_point) * scale, with one (scale, zero point) for the tensor (axis 0), per row (1) or per
// column (2). q is int8, or uint8 when is_unsigned.
__kernel KERNEL_SHAPE void dequantize(__global const char* q, const int is_unsigned, const int rows, const int cols,
                         const int axis, __global const float* scale, __global const int* zero_point,
                         __global float* y) {
    const int i = get_global_id(0);
    if (i >= rows * cols) return;
    const int p = axis == 0 ? 0 : axis == 1 ? i / cols : i % cols;
    const int v = is_unsigned ? (int) (uchar) q[i] : (int) q[i];
    y[i] = (float) (v - zero_point[p]) * scale[p];
}

// ---- DynamicQuantizeLinear per group of rows (the graph runtime's quantize node) ------------------------
// x is [groups][rows_per_group][cols]. Group g's uint8 range is taken over its first count(g) rows: all of them
// without lengths, else lengths[g] clamped to [0, rows_per_group], and all rows when that is 0 (a sentence's
// range over its real tokens, right padding). One group over all rows is ONNX DynamicQuantizeLinear.
static inline int dqg_count(const int g, const int rows_per_group, __global const int* lengths, const int has_lengths) {
    if (!has_lengths) return rows_per_group;
    const int len = clamp(lengths[g], 0, rows_per_group);
    return len == 0 ? rows_per_group : len;
}

// (min, max) of x[k, end) as a partial: (NaN, max) when a NaN is among them, (+inf, -inf) when there are none.
static inline void dqg_scan(__global const float* xg, long k, const long end, float* lo_out, float* hi_out) {
    float16 lo16 = (float16) INFINITY, hi16 = (float16) -INFINITY;
    int16 nan16 = (int16) 0;
    for (; k + 16 <= end; k += 16) {
        const float16 v = vload16(0, xg + k);
        lo16 = fmin(lo16, v);
        hi16 = fmax(hi16, v);
        nan16 |= isnan(v);
    }
    float8 lo8 = fmin(lo16.lo, lo16.hi), hi8 = fmax(hi16.lo, hi16.hi);
    float4 lo4 = fmin(lo8.lo, lo8.hi), hi4 = fmax(hi8.lo, hi8.hi);
    float lo = fmin(fmin(lo4.x, lo4.y), fmin(lo4.z, lo4.w)), hi = fmax(fmax(hi4.x, hi4.y), fmax(hi4.z, hi4.w));
    int nan = any(nan16);
    for (; k < end; k++) {
        lo = fmin(lo, xg[k]);
        hi = fmax(hi, xg[k]);
        nan |= isnan(xg[k]);
    }
    *lo_out = nan ? NAN : lo;
    *hi_out = hi;
}

// Stage 1, global (items, groups): item i of group g reduces its share of the group's counted elements, a chunk
// of whole 16-float vectors (min and max are exact in any order, so the lanes change nothing in the result).
__kernel KERNEL_SHAPE void dqg_min_max(__global const float* x, const int cols, const int rows_per_group,
                          __global const int* lengths, const int has_lengths, __global float* partial) {
    const int i = get_global_id(0), items = get_global_size(0), g = get_global_id(1);
    const long n = (long) dqg_count(g, rows_per_group, lengths, has_lengths) * cols;
    const long per = ((n + items - 1) / items + 15) / 16 * 16;
    __global const float* xg = x + (size_t) g * rows_per_group * cols;
    float lo, hi;
    dqg_scan(xg, min(n, i * per), min(n, (i + 1) * per), &lo, &hi);
    partial[2 * (g * items + i)] = lo;
    partial[2 * (g * items + i) + 1] = hi;
}

// A group's parameters from its partials, folded in order from (lo, hi, bad) = (0, 0, 0):
// scale = dql_scale(min(0, min), max(0, max)), zero point = saturate(round_half_even(0 - min / scale)).
static inline void dqg_fold(const float plo, const float phi, float* lo, float* hi, int* bad) {
    *lo = fmin(*lo, plo);
    *hi = fmax(*hi, phi);
    *bad |= dq_not_finite(plo, phi);
}

static inline void dqg_params_of(const float lo, const float hi, const int bad, float* scale_out, int* zero_point_out) {
    const float scale = bad ? NAN : dql_scale(lo, hi);
    *scale_out = scale;
    *zero_point_out = bad ? 0 : (int) clamp(rint(0.0f - lo / scale), 0.0f, 255.0f);
}

// Stage 2, in every row's work-item of stage 3 (one launch less per quantize node than a work-item per group: the
// group's partials are a few hundred bytes, read from cache). Every row of a group computes the same, bit for bit
// (the same partials in the same order).
static inline void dqg_group_params(__global const float* partial, const int items, const int g, float* scale_out, int* zero_point_out) {
    float lo = 0.0f, hi = 0.0f;
    int bad = 0;
    for (int i = 0; i < items; i++) dqg_fold(partial[2 * (g * items + i)], partial[2 * (g * items + i) + 1], &lo, &hi, &bad);
    dqg_params_of(lo, hi, bad, scale_out, zero_point_out);
}

// y = saturate(round_half_even(x / scale) + zero_point) over one row, 16 lanes at a time.
static inline void dqg_quantize_row(__global const float* xr, __global uchar* yr, const int cols, const float scale, const int zp) {
    int c = 0;
    for (; c + 16 <= cols; c += 16) {
        // dq_round's rounding, zero point and saturation done in float (PoCL's convert_int16_sat_rte and add_sat cost
        // about a fifth of this kernel): rint(q) + zp is exact below 2^24 and saturates the same way above it; a NaN
        // quotient counts as 0, as the saturating conversion makes it.
        const float16 q = vload16(0, xr + c) / scale;
        const float16 y16 = clamp(select(rint(q), (float16) 0.0f, isnan(q)) + (float) zp, 0.0f, 255.0f);
        store_char16(as_char16(convert_uchar16(y16)), (__global char*) (yr + c));
    }
    for (; c < cols; c++) yr[c] = (uchar) clamp(dq_round(xr[c] / scale, zp), 0, 255);
}

// Stage 3, one work-item per row: y = saturate(round_half_even(x / scale) + zero_point), 16 lanes at a time (the
// division stays correctly rounded: the program is built with -cl-fp32-correctly-rounded-divide-sqrt, and
// convert_int16_rte rounds half to even like rint). A work-item per element cost ~0.5 ms per MiniLM activation
// on PoCL; a row each is ~20x less. The first row of each group writes the group's parameters (scales,
// zero_points: [groups]); with per_row_out, every row also writes them for itself (row_scales, row_zero_points:
// [groups * rows_per_group]).
__kernel KERNEL_SHAPE void dqg_apply(__global const float* x, const int cols, const int rows_per_group, const int rows,
                        __global const float* partial, const int items, __global float* scales, __global int* zero_points,
                        __global uchar* y, const int per_row_out, __global float* row_scales, __global int* row_zero_points) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const int g = r / rows_per_group;
    float scale;
    int zp;
    dqg_group_params(partial, items, g, &scale, &zp);
    if (r % rows_per_group == 0) {
        scales[g] = scale;
        zero_points[g] = zp;
    }
    dqg_quantize_row(x + (size_t) r * cols, y + (size_t) r * cols, cols, scale, zp);
    if (per_row_out) {
        row_scales[r] = scale;
        row_zero_points[r] = zp;
    }
}

// All three stages in one work-item per group (global size: groups): the scan, the parameters and every row. One
// launch instead of two where the groups are small or many enough to keep the cores busy on their own (Quantize
// decides): on PoCL each launch boundary costs tens of microseconds while a worker thread wakes up. The same
// operations as the staged kernels, so the same bits (min and max are exact in any order; one partial per group).
__kernel KERNEL_SHAPE void dqg_whole(__global const float* x, const int cols, const int rows_per_group,
                        __global const int* lengths, const int has_lengths, __global float* scales, __global int* zero_points,
                        __global uchar* y, const int per_row_out, __global float* row_scales, __global int* row_zero_points) {
    const int g = get_global_id(0);
    const long n = (long) dqg_count(g, rows_per_group, lengths, has_lengths) * cols;
    __global const float* xg = x + (size_t) g * rows_per_group * cols;
    float plo, phi, lo = 0.0f, hi = 0.0f, scale;
    int bad = 0, zp;
    dqg_scan(xg, 0, n, &plo, &phi);
    dqg_fold(plo, phi, &lo, &hi, &bad);
    dqg_params_of(lo, hi, bad, &scale, &zp);
    scales[g] = scale;
    zero_points[g] = zp;
    for (int i = 0; i < rows_per_group; i++) {
        const int r = g * rows_per_group + i;
        dqg_quantize_row(xg + (size_t) i * cols, y + (size_t) r * cols, cols, scale, zp);
        if (per_row_out) {
            row_scales[r] = scale;
            row_zero_points[r] = zp;
        }
    }
}

// ---- Symmetric int8 per block of 32 (ggml's block_q8_0: the block-quantized linear's activations) -------
// The rule is q8_block.clh's (shared with layers.cl's fused norm and SiLU producers).
#include "q8_block.clh"

// One work-item per block; global size: the number of blocks (rows * cols / 32). Work-item 0 also writes the one
// zero point, 0, so that the graph's quantize node needs no fill command of its own.
__kernel KERNEL_SHAPE void block_int8(__global const float* x, const int blocks, __global char* q, __global float* scales,
                                      __global int* zero_point) {
    const int b = get_global_id(0);
    if (b == 0) zero_point[0] = 0;
    if (b >= blocks) return;
    __global const float* xb = x + (size_t) b * 32;
    q8_block(vload16(0, xb), vload16(1, xb), q + (size_t) b * 32, scales + b);
}
