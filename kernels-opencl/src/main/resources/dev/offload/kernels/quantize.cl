// Quantize and dequantize kernels. Host side: dev.offload.ops.quant.Quantize; judge: QuantizeReference.
// Build with -cl-fp32-correctly-rounded-divide-sqrt: x / scale must round exactly as Java's float division,
// because a quotient one ulp off can round to the other integer and break bit-exactness.

// Kernel style (host: dev.offload.device.KernelStyle). -D OFFLOAD_FPGA=1 builds the FPGA form: every kernel runs
// as single work-item work-groups (reqd_work_group_size(1,1,1), the form FPGA compilers pipeline) and the host
// launches it with a local size of 1. Without it the kernels take any work-group size.
#ifdef OFFLOAD_FPGA
#define KERNEL_SHAPE __attribute__((reqd_work_group_size(1, 1, 1)))
#else
#define KERNEL_SHAPE
#endif

// ---- DynamicQuantizeLinear (ONNX): uint8, per tensor -------------------------------------------------
// Stage 1: work-item i reduces x[i*per_item, (i+1)*per_item) to (min, max) in partial[2i], partial[2i+1].
__kernel KERNEL_SHAPE void dql_min_max(__global const float* x, const int n, const int per_item, __global float* partial) {
    const int i = get_global_id(0);
    const int begin = i * per_item;
    const int end = min(n, begin + per_item);
    float lo = INFINITY, hi = -INFINITY;
    for (int k = begin; k < end; k++) {
        lo = fmin(lo, x[k]);
        hi = fmax(hi, x[k]);
    }
    partial[2 * i] = lo;
    partial[2 * i + 1] = hi;
}

// Stage 2 (one work-item): the scale and zero point, ONNX's formulas in float:
//   scale = (max(0, max x) - min(0, min x)) / 255;  zero_point = saturate(round_half_even(0 - min / scale))
// All-zero input gives scale 0: zero point 0 (and every y 0), instead of dividing by zero.
__kernel KERNEL_SHAPE void dql_params(__global const float* partial, const int count, __global float* scale_out,
                         __global int* zero_point_out) {
    float lo = 0.0f, hi = 0.0f;
    for (int i = 0; i < count; i++) {
        lo = fmin(lo, partial[2 * i]);
        hi = fmax(hi, partial[2 * i + 1]);
    }
    const float scale = (hi - lo) / 255.0f;
    *scale_out = scale;
    *zero_point_out = scale == 0.0f ? 0 : (int) clamp(rint(0.0f - lo / scale), 0.0f, 255.0f);
}

// Stage 3: y = saturate(round_half_even(x / scale) + zero_point).
__kernel KERNEL_SHAPE void dql_apply(__global const float* x, const int n, __global const float* scale_in,
                        __global const int* zero_point_in, __global uchar* y) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float scale = *scale_in;
    y[i] = scale == 0.0f ? 0 : (uchar) clamp((int) rint(x[i] / scale) + *zero_point_in, 0, 255);
}

// ---- Symmetric int8 per row ----------------------------------------------------------------------------
// scale[r] = max|x[r,:]| / 127;  q = clamp(round_half_even(x / scale), -127, 127); a zero row: scale 0, q 0.
// One work-item per row: it needs the row's maximum before it can quantize any element.
__kernel KERNEL_SHAPE void symmetric_rows(__global const float* x, const int rows, const int cols,
                             __global char* q, __global float* scales) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global const float* row = x + (size_t) r * cols;
    float m = 0.0f;
    for (int k = 0; k < cols; k++) m = fmax(m, fabs(row[k]));
    const float scale = m / 127.0f;
    scales[r] = scale;
    __global char* out = q + (size_t) r * cols;
    for (int k = 0; k < cols; k++) {
        out[k] = scale == 0.0f ? 0 : (char) clamp(rint(row[k] / scale), -127.0f, 127.0f);
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
