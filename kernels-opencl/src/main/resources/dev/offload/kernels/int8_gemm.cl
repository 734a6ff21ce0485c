// INT8 GEMM with ONNX MatMulInteger semantics and fused epilogues. Host side: dev.offload.ops.gemm.Int8Gemm.
//
//   C[m,n] = sum_k (A[m,k] - za[m]) * (B[k,n] - zb[n])          int32, wrapping
//
// Everything runs in the signed domain: a uint8 value u with zero point z equals the int8 value (u ^ 0x80)
// with zero point z - 128, so one kernel serves all four int8/uint8 combinations. B is flipped when it is
// packed; A is flipped on load with the run-time mask a_flip (0 or 0x80). The host passes the adjusted
// ("effective") zero points.
//
// za and sa are read with a stride (0 or 1) so that a quantize kernel's per-tensor ([1]) or per-row ([M]) outputs
// feed the GEMM directly from device memory, without a host round trip; za_shift turns a uint8 zero point into
// its signed-domain value.
//
// The zero points are taken out after the dot product, so the inner loop is a plain sum of products:
//   sum_k (a-za)(b-zb) = sum ab - za[m]*colsum[n] - zb[n]*rowsum[m] + K*za[m]*zb[n]     (mod 2^32)
// colsum is computed when B is packed, rowsum by int8_gemm_row_sums (only when some zb[n] != 0).
//
// Layouts: A is row-major [M][lda] (lda >= K). For int8_gemm, packed B is B transposed, [n_padded][ldb]: each
// column of B is one contiguous row, zero beyond K (ldb is a multiple of 16) and zero rows beyond N (n_padded
// is a multiple of NR), so vector loads of B never need bounds checks. int8_gemm_panels (X86_VNNI, at the end
// of this file) and int8_gemm_amx (X86_AMX, amx_gemm.clh) take B in 16-column panels instead.
//
// Build defines:
//   MR, NR                     the register block: each work-item computes MR rows x NR columns of C
//   USE_INTEGER_DOT_PRODUCT    use cl_khr_integer_dot_product's dot(char4, char4) (emulated where absent)
//   X86_VNNI                   use vpdpbusd (x86 CPUs with AVX512-VNNI, OpenCL compiled by clang: PoCL)
//   X86_AMX                    int8_gemm_amx on Intel AMX tiles (amx_gemm.clh, included at the end; PoCL on a CPU
//                              with amx_tile and amx_int8, in a process Linux gave the tile state)
//   PORTABLE_ONLY              no x86 intrinsics (else vpmaddwd is used where the compiler targets AVX512BW)
//   OFFLOAD_FPGA               FPGA style: single work-item kernels, no x86 intrinsics; each work-item computes
//                              one MR x NR tile of C with fully unrolled inner loops (the portable loop)
//   EPILOGUE_INT32 | EPILOGUE_DEQUANTIZE | EPILOGUE_REQUANTIZE
//   ACTIVATION_NONE | ACTIVATION_RELU | ACTIVATION_GELU_ERF | ACTIVATION_GELU_TANH | ACTIVATION_SILU |
//   ACTIVATION_GELU_ERF_ONNX   (the last one built with -cl-fp32-correctly-rounded-divide-sqrt)
//   HAS_BIAS                   (dequantize only) add bias[n]
// Signed overflow is undefined in OpenCL C, so every sum that may wrap is done in uint.

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"

// The dequantize epilogue rounds like the Java reference (Int8GemmReference.int8Linear): no contraction of c * s + bias into fma.
#pragma OPENCL FP_CONTRACT OFF

#ifndef MR
#define MR 4
#endif
#ifndef NR
#define NR 4
#endif

// Clang on x86 with AVX512BW (PoCL's CPU device): LLVM 15 does not form vpmaddwd from portable OpenCL C
// (it widens to int and uses vpmulld, half the throughput), so call it directly. Other devices, or
// -D PORTABLE_ONLY, use the portable loop below.
#if defined(__AVX512BW__) && defined(__clang__) && !defined(USE_INTEGER_DOT_PRODUCT) && !defined(PORTABLE_ONLY) \
        && !defined(X86_VNNI) && !defined(OFFLOAD_FPGA)
#define X86_MADD
typedef short x86_short32 __attribute__((ext_vector_type(32)));

static inline x86_short32 load32(__global const char* p, char16 flip) {
    char16 lo = vload16(0, p) ^ flip, hi = vload16(0, p + 16) ^ flip;
    return __builtin_convertvector(__builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
            14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31), x86_short32);
}
#endif

static inline uint hsum16(uint16 v) {
    uint8 h8 = v.lo + v.hi;
    uint4 h4 = h8.lo + h8.hi;
    uint2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y;
}

// Row sums of A in the signed domain, for the zb[n] * rowsum[m] correction. One work-item per row.
__kernel KERNEL_SHAPE void int8_gemm_row_sums(__global const char* a, const int lda, const int a_flip,
                                 const int M, const int K, __global int* rowsum) {
    const int m = get_global_id(0);
    if (m >= M) return;
    __global const char* row = a + (size_t) m * lda;
    const char16 flip = (char16) ((char) a_flip);
    int16 acc = (int16) (0);
    int k = 0;
    for (; k + 16 <= K; k += 16) acc += convert_int16(vload16(0, row + k) ^ flip);
    int s = 0;
    for (; k < K; k++) s += (char) (row[k] ^ a_flip);
    int8 h8 = acc.lo + acc.hi;
    int4 h4 = h8.lo + h8.hi;
    int2 h2 = h4.lo + h4.hi;
    rowsum[m] = s + h2.x + h2.y;
}

#ifdef USE_INTEGER_DOT_PRODUCT
#ifdef cl_khr_integer_dot_product
#define DOT4(x, y) dot((x), (y))
#else
// The device lacks the extension: a plain definition keeps this path buildable and testable everywhere.
static inline int DOT4(char4 x, char4 y) {
    int4 p = convert_int4(x) * convert_int4(y);
    return p.x + p.y + p.z + p.w;
}
#endif
#endif

// ---- Epilogues: the output conversion, for one value (store1) or 16 consecutive columns (store16) ----------
#if defined(EPILOGUE_DEQUANTIZE)
#define EPILOGUE_PARAMS __global const float* sa,     /* activation scale of row m: sa[m * sa_stride] */ \
                        const int sa_stride,          /* 1: one per row; 0: one for the tensor */ \
                        __global const float* sb,     /* [N] weight scale per column */ \
                        __global const float* bias,   /* [N] (read with HAS_BIAS) */ \
                        __global float* out
#define EPILOGUE_ARGS sa, sa_stride, sb, bias, out
#elif defined(EPILOGUE_REQUANTIZE)
#define EPILOGUE_PARAMS __global const float* scale,  /* [N] a_scale * b_scale / y_scale per column */ \
                        const int out_zero_point, const int out_min, const int out_max, __global char* out
#define EPILOGUE_ARGS scale, out_zero_point, out_min, out_max, out
#else
#define EPILOGUE_PARAMS __global int* out
#define EPILOGUE_ARGS out
#endif

#include "erf.clh"
#include "activation.clh"

// ACTIVATE works on float and float16 alike (the built-ins are overloaded); ACTIVATE16 is the float16 form where they
// differ. GELU_ERF is Activation.geluErf on the Java side, bit for bit (offload's erf, erf.clh, with an IEEE
// division: the host adds -cl-fp32-correctly-rounded-divide-sqrt); GELU_ERF_ONNX is ONNX Runtime's rounding.
#if defined(ACTIVATION_RELU)
#define ACTIVATE(x) OFFLOAD_RELU(x)
#elif defined(ACTIVATION_GELU_ERF)
#define ACTIVATE(x) ((x) * (offload_erf((x) / 1.4142135f) + 1.0f) * 0.5f)
#define ACTIVATE16(x) ((x) * (offload_erf16((x) / 1.4142135f) + 1.0f) * 0.5f)
#elif defined(ACTIVATION_GELU_TANH)
#define ACTIVATE(x) OFFLOAD_GELU_TANH(x)
#elif defined(ACTIVATION_SILU)
#define ACTIVATE(x) ((x) / (1.0f + exp(-(x))))
#elif defined(ACTIVATION_GELU_ERF_ONNX)
// GELU as an exported ONNX graph writes it, rounded as ONNX Runtime's CPU provider rounds it: Div(x, sqrt 2) (a
// correctly rounded division: the program is built with -cl-fp32-correctly-rounded-divide-sqrt), Erf as MLAS's
// FMA3 kernel computes it, + 1, * x, * 0.5, each step one float rounding (FP_CONTRACT is off above). Judge:
// dev.offload.math.OnnxRuntimeCpu.gelu, which this must match bit for bit.
static inline float onnx_erf(const float x) {
    const float a = fmin(fabs(x), 3.925f);
    float r;
    if (a >= 0.921875f) {
        float q = 1.72948930e-5f;
        q = fma(q, a, -3.83208680e-4f);
        q = fma(q, a, 3.88393435e-3f);
        q = fma(q, a, -2.42545605e-2f);
        q = fma(q, a, 1.06777847e-1f);
        q = fma(q, a, 6.34846687e-1f);
        q = fma(q, a, 1.28717512e-1f);
        q = fma(q, a, a);
        q = fmax(-q, -88.3762626647949f);
        const float m = fma(1.44269504088896341f, q, 1.25829120e+7f) - 1.25829120e+7f;
        float f = fma(-6.93145752e-1f, m, q);
        f = fma(m, -1.42860677e-6f, f);
        float y = 1.38319808e-3f;
        y = fma(y, f, 8.37550033e-3f);
        y = fma(y, f, 4.16689515e-2f);
        y = fma(y, f, 1.66664466e-1f);
        y = fma(y, f, 4.99999851e-1f);
        y = fma(y, f, 1.0f);
        y = fma(y, f, 1.0f);
        const float scaled = y * as_float(((int) m + 127) << 23);
        r = 1.0f - scaled;
    } else {
        const float s = a * a;
        float p = -5.99104969e-4f;
        p = fma(p, s, 4.99339588e-3f);
        p = fma(p, s, -2.67667342e-2f);
        p = fma(p, s, 1.12818025e-1f);
        p = fma(p, s, -3.76124859e-1f);
        p = fma(p, s, 1.28379151e-1f);
        r = fma(p, a, a);
    }
    return copysign(r, x);
}

static inline float onnx_gelu(const float x) {
    const float e = onnx_erf(x / 1.4142135f);
    const float u = e + 1.0f;
    const float w = x * u;
    return w * 0.5f;
}

// Lane by lane: the erf has two branches, and the epilogue's cost is small next to the GEMM.
static inline float16 onnx_gelu16(const float16 y) {
    float v[16];
    vstore16(y, 0, v);
    for (int t = 0; t < 16; t++) v[t] = onnx_gelu(v[t]);
    return vload16(0, v);
}
#define ACTIVATE(x) onnx_gelu(x)
#define ACTIVATE16(x) onnx_gelu16(x)
#else
#define ACTIVATE(x) (x)
#endif
#ifndef ACTIVATE16
#define ACTIVATE16(x) ACTIVATE(x)
#endif

// C[m,n] = c, converted as the epilogue says. Float operations in the same order as the Java reference.
static inline void store1(const int c, const int m, const int n, const int N, EPILOGUE_PARAMS) {
    const size_t at = (size_t) m * N + n;
#if defined(EPILOGUE_DEQUANTIZE)
    // c * (sa * sb): the graph's reference (Int8GemmReference.int8Linear) multiplies the two scales first.
    float y = (float) c * (sa[m * sa_stride] * sb[n]);
#ifdef HAS_BIAS
    y += bias[n];
#endif
    out[at] = ACTIVATE(y);
#elif defined(EPILOGUE_REQUANTIZE)
    // (float) c * scale, round half to even, add the zero point, saturate: bit-exact with the reference.
    const int r = clamp(convert_int_sat_rte((float) c * scale[n]), -65536, 65536);
    out[at] = as_char((uchar) (clamp(r + out_zero_point, out_min, out_max) & 0xFF));
#else
    out[at] = c;
#endif
}

// C[m, n..n+15] = c; columns past N are not stored.
static inline void store16(const int16 c, const int m, const int n, const int N, EPILOGUE_PARAMS) {
    if (n + 16 > N) {
        int v[16];
        vstore16(c, 0, v);
        for (int t = 0; t < N - n; t++) store1(v[t], m, n + t, N, EPILOGUE_ARGS);
        return;
    }
    const size_t at = (size_t) m * N + n;
#if defined(EPILOGUE_DEQUANTIZE)
    float16 y = convert_float16(c) * (sa[m * sa_stride] * vload16(0, sb + n));
#ifdef HAS_BIAS
    y += vload16(0, bias + n);
#endif
    vstore16(ACTIVATE16(y), 0, out + at);
#elif defined(EPILOGUE_REQUANTIZE)
    const int16 r = clamp(convert_int16_sat_rte(convert_float16(c) * vload16(0, scale + n)), -65536, 65536);
    vstore16(as_char16(convert_uchar16(clamp(r + out_zero_point, out_min, out_max) & 0xFF)), 0, out + at);
#else
    vstore16(c, 0, out + at);
#endif
}

// Global size: (n_padded / NR, ceil(M / MR)). Work-items along dimension 0 share the same A rows.
__kernel KERNEL_SHAPE void int8_gemm(__global const char* a, const int lda, const int a_flip,
                        __global const int* za,            // A zero point of row m: za[m * za_stride] - za_shift
                        const int za_stride,               // 1: one per row; 0: one for the tensor
                        const int za_shift,                // 128 for uint8 A given its own zero points, else 0
                        __global const char* bt, const int ldb,
                        __global const int* zb,            // [n_padded] effective B zero points
                        __global const int* colsum,        // [n_padded] sum_k B (signed domain)
                        __global const int* rowsum,        // [M] sum_k A (signed domain), read when use_rowsum
                        const int use_rowsum,
                        const int M, const int N, const int K,
                        EPILOGUE_PARAMS                        ) {
    const int n0 = get_global_id(0) * NR;
    const int m0 = get_global_id(1) * MR;
    if (m0 >= M || n0 >= N) return; // the host may round the global size up to the work-group size

    // Rows past M re-read row M-1 (cheap, branch-free) and are not stored.
    __global const char* arow[MR];
#pragma unroll
    for (int i = 0; i < MR; i++) arow[i] = a + (size_t) min(m0 + i, M - 1) * lda;
    __global const char* brow[NR];
#pragma unroll
    for (int j = 0; j < NR; j++) brow[j] = bt + (size_t) (n0 + j) * ldb;

    const int k16 = K & ~15;
    uint sums[MR][NR];
#if defined(USE_INTEGER_DOT_PRODUCT)
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) sums[i][j] = 0;
    const char16 flip = (char16) ((char) a_flip);
    for (int k = 0; k < k16; k += 16) {
        char16 av[MR], bv[NR];
#pragma unroll
        for (int i = 0; i < MR; i++) av[i] = vload16(0, arow[i] + k) ^ flip;
#pragma unroll
        for (int j = 0; j < NR; j++) bv[j] = vload16(0, brow[j] + k);
#pragma unroll
        for (int i = 0; i < MR; i++)
#pragma unroll
            for (int j = 0; j < NR; j++)
                sums[i][j] += (uint) (DOT4(av[i].s0123, bv[j].s0123) + DOT4(av[i].s4567, bv[j].s4567))
                            + (uint) (DOT4(av[i].s89ab, bv[j].s89ab) + DOT4(av[i].scdef, bv[j].scdef));
    }
#elif defined(X86_MADD)
    // 32 K-elements per step: sign-extend to 32 shorts, vpmaddwd multiplies and adds adjacent pairs into
    // 16 ints. Exact: a pair sum of int8 products is at most 2 * 128 * 128 = 32768, well inside int.
    int16 acc[MR][NR];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) acc[i][j] = (int16) (0);
    const char16 flip = (char16) ((char) a_flip);
    const int k32 = K & ~31;
    for (int k = 0; k < k32; k += 32) {
        x86_short32 av[MR], bv[NR];
#pragma unroll
        for (int i = 0; i < MR; i++) av[i] = load32(arow[i] + k, flip);
#pragma unroll
        for (int j = 0; j < NR; j++) bv[j] = load32(brow[j] + k, (char16) (0));
#pragma unroll
        for (int i = 0; i < MR; i++)
#pragma unroll
            for (int j = 0; j < NR; j++)
                acc[i][j] = as_int16(as_uint16(acc[i][j]) + as_uint16(__builtin_ia32_pmaddwd512(av[i], bv[j])));
    }
    if (k32 < k16) { // one more 16-wide step
        short16 av[MR], bv[NR];
#pragma unroll
        for (int i = 0; i < MR; i++) av[i] = convert_short16(vload16(0, arow[i] + k32) ^ flip);
#pragma unroll
        for (int j = 0; j < NR; j++) bv[j] = convert_short16(vload16(0, brow[j] + k32));
#pragma unroll
        for (int i = 0; i < MR; i++)
#pragma unroll
            for (int j = 0; j < NR; j++)
                acc[i][j] = as_int16(as_uint16(acc[i][j]) + as_uint16(convert_int16(av[i]) * convert_int16(bv[j])));
    }
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) sums[i][j] = hsum16(as_uint16(acc[i][j]));
#else
    // 16 lanes along K per accumulator; products of two int8 values are exact in int.
    int16 acc[MR][NR];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) acc[i][j] = (int16) (0);
    const char16 flip = (char16) ((char) a_flip);
    for (int k = 0; k < k16; k += 16) {
        short16 av[MR], bv[NR];
#pragma unroll
        for (int i = 0; i < MR; i++) av[i] = convert_short16(vload16(0, arow[i] + k) ^ flip);
#pragma unroll
        for (int j = 0; j < NR; j++) bv[j] = convert_short16(vload16(0, brow[j] + k));
#pragma unroll
        for (int i = 0; i < MR; i++)
#pragma unroll
            for (int j = 0; j < NR; j++)
                acc[i][j] = as_int16(as_uint16(acc[i][j]) + as_uint16(convert_int16(av[i]) * convert_int16(bv[j])));
    }
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int j = 0; j < NR; j++) sums[i][j] = hsum16(as_uint16(acc[i][j]));
#endif
    // The last K % 16 elements.
    for (int k = k16; k < K; k++) {
#pragma unroll
        for (int i = 0; i < MR; i++) {
            const int x = (char) (arow[i][k] ^ a_flip);
#pragma unroll
            for (int j = 0; j < NR; j++) sums[i][j] += (uint) (x * brow[j][k]);
        }
    }

    // Epilogue: zero-point correction, then the selected output conversion.
#pragma unroll
    for (int i = 0; i < MR; i++) {
        const int m = m0 + i;
        if (m >= M) break;
        const uint zam = (uint) (za[m * za_stride] - za_shift);
        const uint rs = use_rowsum ? (uint) rowsum[m] : 0u;
#pragma unroll
        for (int j = 0; j < NR; j++) {
            const int n = n0 + j;
            if (n >= N) break;
            const uint zbn = (uint) zb[n];
            const int c = (int) (sums[i][j] - zam * (uint) colsum[n] - zbn * rs + (uint) K * zam * zbn);
            store1(c, m, n, N, EPILOGUE_ARGS);
        }
    }
}

// ---- AVX512-VNNI variant (-D X86_VNNI): B in panels, C computed in 16-column vectors ------------------------
// vpdpbusd multiplies 64 unsigned by 64 signed bytes and adds each group of four products into one of 16 ints
// (wrapping). PoCL 3.1's LLVM 15 targets skylake-avx512, which lacks VNNI, so only vnni_panels is compiled for
// it; the host passes -D X86_VNNI only for PoCL on a CPU that reports avx512_vnni.
//
// Packed B: panels of 16 columns, [n_padded / 16][ceil(K / 4)][16 columns][4 k], zero-padded; ldb is the
// panel stride in bytes. One 64-byte load holds 4 k-values of 16 columns; one A row's 4 k-values are
// broadcast. A is made unsigned (signed-domain value + 128, i.e. xor 0x80); the 128 * colsum[n] this adds
// is taken out with the zero points. NR is a multiple of 16; MR rows x NR/16 vectors accumulate.
#if defined(X86_VNNI) && defined(__clang__) && defined(__x86_64__) && !defined(OFFLOAD_FPGA)
#define NV (NR / 16)

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void vnni_panels(__global const char* const* arow, __global const char* bp, const int panel_stride,
                        const int K, const int a_mask, int16* result) {
    int16 acc[MR][NV];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int v = 0; v < NV; v++) acc[i][v] = (int16) (0);
    const int quads = K >> 2;
    const uint mask = (uint) (a_mask & 0xFF) * 0x01010101u;
    // One K-quad: NV 64-byte loads of B, then per A row a 4-byte broadcast and NV vpdpbusd.
#define VNNI_QUAD(A_WORD)                                                                                         \
    {                                                                                                             \
        int16 b[NV];                                                                                              \
        _Pragma("unroll") for (int v = 0; v < NV; v++)                                                            \
            b[v] = vload16(0, (__global const int*) (bp + (size_t) v * panel_stride + q * 64));                   \
        _Pragma("unroll") for (int i = 0; i < MR; i++) {                                                          \
            const int16 a4 = (int16) (A_WORD);                                                                    \
            _Pragma("unroll") for (int v = 0; v < NV; v++) acc[i][v] = __builtin_ia32_vpdpbusd512(acc[i][v], a4, b[v]); \
        }                                                                                                         \
    }
    // uint8 A (the common case: DynamicQuantizeLinear output) needs no flip. A loop of its own lets LLVM broadcast
    // straight from memory (vpbroadcastd m32) instead of load -> GPR -> xor -> broadcast, which measured as the
    // bottleneck of the inner loop (22 instructions per 8 vpdpbusd with the xor in place).
    if (mask == 0u) {
        for (int q = 0; q < quads; q++) VNNI_QUAD(as_int(vload4(0, (__global const uchar*) arow[i] + 4 * q)))
    } else {
        for (int q = 0; q < quads; q++) VNNI_QUAD(as_int(as_uint(vload4(0, (__global const uchar*) arow[i] + 4 * q)) ^ mask))
    }
#undef VNNI_QUAD
    const int rest = K & 3;
    if (rest) { // the last partial quad: A bytes past K are 0 (and B is zero-padded there)
        int16 b[NV];
#pragma unroll
        for (int v = 0; v < NV; v++) b[v] = vload16(0, (__global const int*) (bp + (size_t) v * panel_stride + quads * 64));
#pragma unroll
        for (int i = 0; i < MR; i++) {
            uint a = 0;
            for (int t = 0; t < rest; t++) a |= (uint) ((uchar) arow[i][4 * quads + t] ^ (uchar) a_mask) << (8 * t);
            const int16 a4 = (int16) (as_int(a));
#pragma unroll
            for (int v = 0; v < NV; v++) acc[i][v] = __builtin_ia32_vpdpbusd512(acc[i][v], a4, b[v]);
        }
    }
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int v = 0; v < NV; v++) result[i * NV + v] = acc[i][v];
}

// Same arguments as int8_gemm; global size (n_padded / NR, ceil(M / MR)).
__kernel KERNEL_SHAPE void int8_gemm_panels(__global const char* a, const int lda, const int a_flip, __global const int* za,
                               const int za_stride, const int za_shift,
                               __global const char* bp, const int ldb, __global const int* zb,
                               __global const int* colsum, __global const int* rowsum, const int use_rowsum,
                               const int M, const int N, const int K, EPILOGUE_PARAMS) {
    const int n0 = get_global_id(0) * NR;
    const int m0 = get_global_id(1) * MR;
    if (m0 >= M || n0 >= N) return;
    __global const char* arow[MR];
#pragma unroll
    for (int i = 0; i < MR; i++) arow[i] = a + (size_t) min(m0 + i, M - 1) * lda;
    int16 acc[MR][NV];
    vnni_panels(arow, bp + (size_t) (n0 / 16) * ldb, ldb, K, a_flip ^ 0x80, &acc[0][0]);

    const uint16 kk = (uint16) ((uint) K);
#pragma unroll
    for (int v = 0; v < NV; v++) {
        const int n = n0 + 16 * v;
        if (n >= N) break;
        const uint16 cs = as_uint16(vload16(0, colsum + n));  // colsum and zb are padded to n_padded
        const uint16 zbn = as_uint16(vload16(0, zb + n));
#pragma unroll
        for (int i = 0; i < MR; i++) {
            const int m = m0 + i;
            if (m >= M) break;
            const uint zam = (uint) (za[m * za_stride] - za_shift);
            const uint rs = use_rowsum ? (uint) rowsum[m] : 0u;
            const uint16 c = as_uint16(acc[i][v]) - (128u + zam) * cs - zbn * rs + kk * zam * zbn;
            store16(as_int16(c), m, n, N, EPILOGUE_ARGS);
        }
    }
}
#endif

#include "amx_gemm.clh"
