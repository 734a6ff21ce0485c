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
// The per-group rules (dq_round, dql_scale, dqg_scan, ...): dqg.clh.
#include "dqg.clh"

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

// ---- DynamicQuantizeLinear per group of rows (the graph runtime's quantize node; the rules in dqg.clh) ----------
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

// Stage 2, in every row's work-item of stage 3 (one launch less per quantize node than a work-item per group: the
// group's partials are a few hundred bytes, read from cache). Every row of a group computes the same, bit for bit
// (the same partials in the same order).
static inline void dqg_group_params(__global const float* partial, const int items, const int g, float* scale_out, int* zero_point_out) {
    float lo = 0.0f, hi = 0.0f;
    int bad = 0;
    for (int i = 0; i < items; i++) dqg_fold(partial[2 * (g * items + i)], partial[2 * (g * items + i) + 1], &lo, &hi, &bad);
    dqg_params_of(lo, hi, bad, scale_out, zero_point_out);
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
    const size_t first = (size_t) g * rows_per_group;
    dqg_quantize_group(x + first * cols, y + first * cols, cols, rows_per_group, dqg_count(g, rows_per_group, lengths, has_lengths),
                       scales + g, zero_points + g, per_row_out, row_scales + (per_row_out ? first : 0),
                       row_zero_points + (per_row_out ? first : 0));
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
