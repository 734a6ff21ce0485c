// Softmax attention: O = softmax(scale * Q K^T + mask) V, per (batch, head).
//
// Layouts (C order, row-major): Q [B,H,Sq,D], K and V [B,Hkv,Skv,D], O [B,H,Sq,D] float32 (head-major);
// with TOKEN_MAJOR the fused kernels read Q [B,Sq,H,D], K and V [B,Skv,Hkv,D] and write O [B,Sq,H,D]:
// a transformer's [B,S,H*D] activations as they are, with no transposes around the kernel.
// Query head h reads kv head h / (H / Hkv) (grouped-query attention; H % Hkv == 0).
//
// Build defines:
//   HEAD_DIM      D, required; a multiple of 4, at most 256 (rows are read as float16/8/4 vectors).
//   HALF_STORAGE  1: Q, K, V are stored as IEEE half and widened with vload_halfN, which is core
//                 OpenCL (no cl_khr_fp16 needed); all arithmetic stays float. 0 (default): float32.
//   TOKEN_MAJOR   1: the token-major layouts (attention_fused, attention_fused_rows, attention_merge);
//                 0 (default): head-major. Only the addresses differ: results are bit-identical.
//   ONNX_ATTENTION 1, instead of HEAD_DIM: only ONNX Runtime's form (attention_onnx, attention_onnx_rows,
//                 keys_to_columns at the end of this file; token-major, D a run-time argument), built with
//                 -cl-fp32-correctly-rounded-divide-sqrt.
//
// Masks (all combine; a masked key contributes nothing):
//   causal      bottom-right aligned as with a KV cache: query i sees keys j <= i + Skv - Sq. The argument is
//               0 (none) or the mask's sliding window in keys, INT_MAX for none: query i then sees only the
//               last `causal` keys before its end (key_begin; Gemma 3's local layers).
//   kv_len      per-batch key count: keys j >= kv_len[b] are masked.
//   add_mask    additive float mask, element (b, h, i, j) at b*mask_bstride + h*mask_hstride + i*Skv + j,
//               so [Sq,Skv] broadcasts with both strides 0, [B,1,Sq,Skv] with mask_hstride 0.
//               -INFINITY masks a key.
// A query row whose keys are all masked produces zeros (not NaN): softmax over an empty set is
// defined here as contributing nothing. The Java reference defines it the same way.
// NaN and infinities are kept as the reference keeps them: a NaN score (a NaN in the query row, a visible key or the
// mask) makes its row NaN, and so does a +inf score (exp(inf - inf)). fmax skips NaN, so a row whose scores are all
// NaN must not be taken for a row whose keys are all masked: the kernels look for NaN on their own.
//
// Kernels:
//   attention_fused   flash-attention style: one work-item per (query row, b*h, key split) streams
//                     over its keys in blocks of KEY_BLOCK with an online softmax (running max m and
//                     sum l, accumulator rescaled when m grows). Scores never reach global memory.
//                     With one split it writes O; with several ("flash-decoding", used when there are
//                     too few query rows to keep the device busy, e.g. Sq = 1) it writes per-split
//                     partials (m, l, acc[D]) and attention_merge combines them.
//   attention_merge   combines split partials into O.
//   kv_cache_append   a decode step's keys and values into the KV cache, at the row a device buffer names.
//   attention_scores, attention_softmax, attention_weighted_values
//                     the unfused three-pass path (S = scores in global memory, P = softmax(S) in
//                     place, O = P V), kept for comparison and as a second independent implementation.
//   attention_tiled   the GPU shape (with TILED_BR, see its section): a work-group per tile of query rows,
//                     key/value tiles in local memory, the online softmax's max and sum reduced across work-items.
//
// The kernels above attention_tiled are shaped for CPUs (PoCL): no local memory, no barriers, each work-item keeps
// its query row and a D-wide accumulator in registers and reads K and V rows with wide vector loads.

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"
#include "activation.clh"

#if !defined(HEAD_DIM) && !defined(ONNX_ATTENTION)
#error "build with -DHEAD_DIM=<head dimension> (fused and unfused kernels) or -DONNX_ATTENTION=1 (ONNX Runtime's form)"
#endif
#ifdef HEAD_DIM
#ifndef HALF_STORAGE
#define HALF_STORAGE 0
#endif
#ifndef TOKEN_MAJOR
#define TOKEN_MAJOR 0
#endif

#if HEAD_DIM % 16 == 0
#define VW 16
#elif HEAD_DIM % 8 == 0
#define VW 8
#elif HEAD_DIM % 4 == 0
#define VW 4
#else
#error "HEAD_DIM must be a multiple of 4"
#endif
#define NV (HEAD_DIM / VW)

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define floatV CAT(float, VW)

#if HALF_STORAGE
typedef half store_t;
#define LOAD_V(i, p) CAT(vload_half, VW)((i), (p))
#else
typedef float store_t;
#define LOAD_V(i, p) CAT(vload, VW)((i), (p))
#endif

// Keys scored per block before the running max is updated: one accumulator rescale per block,
// and the block's exp-weights are summed on their own before joining the running sum (two-level
// summation keeps float32 rounding of long sums small).
#define KEY_BLOCK 16

inline float hsum4(float4 v) { return (v.s0 + v.s1) + (v.s2 + v.s3); }
#if VW == 16
inline float hsum(float16 v) { float8 a = v.lo + v.hi; float4 b = a.lo + a.hi; return hsum4(b); }
#elif VW == 8
inline float hsum(float8 v) { return hsum4(v.lo + v.hi); }
#else
inline float hsum(float4 v) { return hsum4(v); }
#endif

// One past the last key query row i of batch b may see (causal and padding masks).
// Element offsets of query row i of head h (also the output row) and of key/value row j of kv head hk in
// batch b, and the distance between consecutive key rows. They use the kernel's H, Hkv, Sq and Skv.
#if TOKEN_MAJOR
#define Q_OFFSET(b, h, i) ((((size_t) (b) * Sq + (i)) * H + (h)) * HEAD_DIM)
#define KV_OFFSET(b, hk, j) ((((size_t) (b) * Skv + (j)) * Hkv + (hk)) * HEAD_DIM)
#define KV_STEP ((size_t) Hkv * HEAD_DIM)
#else
#define Q_OFFSET(b, h, i) ((((size_t) (b) * H + (h)) * Sq + (i)) * HEAD_DIM)
#define KV_OFFSET(b, hk, j) ((((size_t) (b) * Hkv + (hk)) * Skv + (j)) * HEAD_DIM)
#define KV_STEP ((size_t) HEAD_DIM)
#endif

// SOFTCAP (a float literal, > 0): each scaled score s becomes SOFTCAP * tanh(s / SOFTCAP) before the additive mask
// (Gemma 2's attention logit soft-capping; scalar or vector s). Without it scores are as computed. An infinite score
// becomes exactly +-SOFTCAP, as the reference's Math.tanh gives +-1 (PoCL's tanh of an infinity is a hair inside).
#ifdef SOFTCAP
#define SOFTCAPPED(s) (SOFTCAP * OFFLOAD_TANH((s) * (1.0f / SOFTCAP)))
#else
#define SOFTCAPPED(s) (s)
#endif

inline int key_end(int i, int b, int Sq, int Skv, int causal, __global const int* kv_len, int has_len) {
    int end = Skv;
    if (has_len) end = min(end, kv_len[b]);
    if (causal) end = min(end, i + Skv - Sq + 1);
    return max(end, 0);
}

// The first key a row may see, for `end` its key_end. `causal` is 0 (no causal mask) or the causal mask's sliding
// window in keys (INT_MAX for none, Mask.causalArgument): the row sees the last `causal` keys before its end (the
// subtraction only where it is positive: no overflow with INT_MAX). With kv_len the end is the sequence's own, so a
// decode step over a whole cache buffer (Skv = capacity) sees the window before its position.
inline int key_begin(int end, int causal) {
    return causal && end > causal ? end - causal : 0;
}

__kernel KERNEL_SHAPE void attention_fused(
        __global const store_t* q, __global const store_t* k, __global const store_t* v,
        __global float* out,        // O [B,H,Sq,D] when nsplit == 1
        __global float* partial,    // [nsplit][B*H*Sq][D + 2] = (m, l, acc[D]) when nsplit > 1
        const int H, const int Hkv, const int Sq, const int Skv, const float scale,
        const int causal, __global const int* kv_len, const int has_len,
        __global const float* add_mask, const int has_mask, const int mask_bstride, const int mask_hstride,
        const int split_size, const int nsplit) {
    const int i = get_global_id(0);
    const int bh = get_global_id(1);
    const int split = get_global_id(2);
    if (i >= Sq) return;
    const int b = bh / H, h = bh % H;
    const int hk = h / (H / Hkv);
    const size_t row = (size_t) bh * Sq + i;

    const int end = key_end(i, b, Sq, Skv, causal, kv_len, has_len);
    const int j0 = max(split * split_size, key_begin(end, causal));   // a split before the window: no keys
    const int j1 = min(end, split * split_size + split_size);

    // The query row, pre-multiplied by the scale: s = (scale*q) . k.
    floatV qv[NV];
    for (int c = 0; c < NV; c++) qv[c] = LOAD_V(c, q + Q_OFFSET(b, h, i)) * scale;

    __global const store_t* kp = k + KV_OFFSET(b, hk, 0);
    __global const store_t* vp = v + KV_OFFSET(b, hk, 0);
    __global const float* mrow = add_mask + (size_t) b * mask_bstride + (size_t) h * mask_hstride + (size_t) i * Skv;

    float m = -INFINITY, l = 0.0f;
    floatV acc[NV];
    for (int c = 0; c < NV; c++) acc[c] = (floatV) 0.0f;

    for (int jb = j0; jb < j1; jb += KEY_BLOCK) {
        const int n = min(KEY_BLOCK, j1 - jb);
        float s[KEY_BLOCK];
        float block_max = -INFINITY;
        int nan = 0;
        for (int t = 0; t < n; t++) {
            __global const store_t* kr = kp + (size_t) (jb + t) * KV_STEP;
            floatV d = qv[0] * LOAD_V(0, kr);
            for (int c = 1; c < NV; c++) d = fma(qv[c], LOAD_V(c, kr), d);
            float st = SOFTCAPPED(hsum(d));
            if (has_mask) st += mrow[jb + t];
            s[t] = st;
            block_max = fmax(block_max, st);
            nan |= isnan(st);
        }
        if (block_max == -INFINITY && !nan) continue;   // every key of the block is masked (NaN scores go on: exp
                                                        // below makes l and acc NaN)
        const float m_new = fmax(m, block_max);
        const float correction = exp(m - m_new);  // 0 while m is still -inf
        floatV block_acc[NV];
        for (int c = 0; c < NV; c++) block_acc[c] = (floatV) 0.0f;
        float block_sum = 0.0f;
        for (int t = 0; t < n; t++) {
            const float p = exp(s[t] - m_new);    // 0 for a masked (-inf) key
            block_sum += p;
            __global const store_t* vr = vp + (size_t) (jb + t) * KV_STEP;
            for (int c = 0; c < NV; c++) block_acc[c] = fma((floatV) p, LOAD_V(c, vr), block_acc[c]);
        }
        l = fma(l, correction, block_sum);
        for (int c = 0; c < NV; c++) acc[c] = fma(acc[c], (floatV) correction, block_acc[c]);
        m = m_new;
    }

    if (nsplit == 1) {
        // l == 0 only when every key was masked: the row is defined as zeros. A NaN l keeps acc NaN (NaN * 0).
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int c = 0; c < NV; c++) CAT(vstore, VW)(acc[c] * inv, c, out + Q_OFFSET(b, h, i));
    } else {
        __global float* pp = partial + ((size_t) split * get_global_size(1) * Sq + row) * (HEAD_DIM + 2);
        pp[0] = m;
        pp[1] = l;
        for (int c = 0; c < NV; c++) CAT(vstore, VW)(acc[c], c, pp + 2);
    }
}

// The same computation for 16 query rows at once, one row per vector lane: scores of a key for all
// 16 rows are 16 lanes of one float16 (D FMAs with the key's elements broadcast, no horizontal sums),
// exp runs on whole vectors, and every K and V element read serves 16 rows. The CPU shape for
// prefill (Sq >= 16); decode (few rows) uses attention_fused with its key splits instead.
// One work-item per (block of 16 query rows, b*h); rows past Sq are computed on a clamped copy and
// not stored.
#define LANES 16
#if HALF_STORAGE
#define LOAD_S(p) vload_half(0, (p))
#else
#define LOAD_S(p) (*(p))
#endif

__kernel KERNEL_SHAPE void attention_fused_rows(
        __global const store_t* q, __global const store_t* k, __global const store_t* v, __global float* out,
        const int H, const int Hkv, const int Sq, const int Skv, const float scale,
        const int causal, __global const int* kv_len, const int has_len,
        __global const float* add_mask, const int has_mask, const int mask_bstride, const int mask_hstride) {
    const int i0 = get_global_id(0) * LANES;
    const int bh = get_global_id(1);
    if (i0 >= Sq) return;
    const int b = bh / H, h = bh % H;
    const int hk = h / (H / Hkv);
    const int lanes = min(LANES, Sq - i0);

    // Per-lane visible key count; the work-item walks keys up to the largest one.
    int len_end = has_len ? min(Skv, kv_len[b]) : Skv;
    int16 end, begin;
    int walk_end = 0, walk_begin = Skv;
    for (int r = 0; r < LANES; r++) {
        int e = len_end;
        if (causal) e = min(e, min(i0 + r, Sq - 1) + Skv - Sq + 1);
        e = max(e, 0);
        if (r >= lanes) e = 0;
        ((int*) &end)[r] = e;
        ((int*) &begin)[r] = key_begin(e, causal);
        walk_end = max(walk_end, e);
        if (r < lanes) walk_begin = min(walk_begin, ((int*) &begin)[r]);
    }
    // A sliding window: the walk starts at the block of the first key a lane sees (the first lane's); keys before a
    // lane's own first are masked for it as those past its end are.
    walk_begin = walk_begin / KEY_BLOCK * KEY_BLOCK;

    // Q transposed into lanes: qt[d] holds element d of the 16 rows, scaled.
    float16 qt[HEAD_DIM];
    for (int d = 0; d < HEAD_DIM; d++) {
        float16 x;
        for (int r = 0; r < LANES; r++) ((float*) &x)[r] = LOAD_S(q + Q_OFFSET(b, h, i0 + min(r, lanes - 1)) + d);
        qt[d] = x * scale;
    }

    __global const store_t* kp = k + KV_OFFSET(b, hk, 0);
    __global const store_t* vp = v + KV_OFFSET(b, hk, 0);
    __global const float* mbase = add_mask + (size_t) b * mask_bstride + (size_t) h * mask_hstride + (size_t) i0 * Skv;

    float16 m = (float16) (-INFINITY), l = (float16) 0.0f;
    float16 acc[HEAD_DIM];
    for (int d = 0; d < HEAD_DIM; d++) acc[d] = (float16) 0.0f;

    // Every block is a full KEY_BLOCK keys: keys past walk_end are read at a clamped (valid) index and
    // masked for all lanes, so the loops below have constant trip counts and s[] stays in registers.
    // Loops run d-outer: each qt[d] / acc[d] is touched once per block, the key blocks' rows are in L1.
    for (int jb = walk_begin; jb < walk_end; jb += KEY_BLOCK) {
        float16 s[KEY_BLOCK];
        _Pragma("unroll") for (int t = 0; t < KEY_BLOCK; t++) s[t] = (float16) 0.0f;
        __global const store_t* krow[KEY_BLOCK];
        _Pragma("unroll") for (int t = 0; t < KEY_BLOCK; t++) krow[t] = kp + (size_t) min(jb + t, walk_end - 1) * KV_STEP;
        for (int d = 0; d < HEAD_DIM; d++) {
            const float16 qd = qt[d];
            _Pragma("unroll") for (int t = 0; t < KEY_BLOCK; t++) s[t] = fma(qd, (float16) LOAD_S(krow[t] + d), s[t]);
        }
        float16 block_max = (float16) (-INFINITY);
        _Pragma("unroll") for (int t = 0; t < KEY_BLOCK; t++) {
            const int j = jb + t;
            s[t] = SOFTCAPPED(s[t]);
            if (has_mask && j < walk_end) {
                float16 bias;
                for (int r = 0; r < LANES; r++) ((float*) &bias)[r] = mbase[(size_t) min(r, lanes - 1) * Skv + j];
                s[t] += bias;
            }
            s[t] = select(s[t], (float16) (-INFINITY), (int16) j >= end || (int16) j < begin);
            block_max = fmax(block_max, s[t]);
        }
        const float16 m_new = fmax(m, block_max);
        // A lane that has seen only masked keys keeps m = -inf; subtracting 0 there keeps exp at 0, not NaN.
        const float16 m_safe = select(m_new, (float16) 0.0f, isinf(m_new));
        const float16 correction = exp(m - m_safe);
        float16 block_sum = (float16) 0.0f;
        _Pragma("unroll") for (int t = 0; t < KEY_BLOCK; t++) {
            s[t] = exp(s[t] - m_safe);            // now the weight p; 0 for masked keys
            block_sum += s[t];
        }
        // The block's weighted values are summed on their own, then join the rescaled accumulator. A key a lane does
        // not see has weight 0, but 0 times a NaN or infinite value is NaN: in a block where some lane masks a key
        // (the causal diagonal, padding, the clamped keys past walk_end) such values are replaced by 0 for it, as
        // the reference never reads them. Other blocks, nearly all, take the plain loop.
        const int ragged = any((int16) (jb + KEY_BLOCK - 1) >= end || (int16) jb < begin);
        int d = 0;
        if (!ragged) {
            // Four output elements at a time: four independent fma chains over the block's keys (one chain alone
            // waits on the fma latency at every key), each the plain loop's operations in its order.
            for (; d + 4 <= HEAD_DIM; d += 4) {
                float16 x0 = (float16) 0.0f, x1 = (float16) 0.0f, x2 = (float16) 0.0f, x3 = (float16) 0.0f;
                _Pragma("unroll") for (int t = 0; t < KEY_BLOCK; t++) {
                    __global const store_t* vr = vp + (size_t) (jb + t) * KV_STEP + d;
                    x0 = fma(s[t], (float16) LOAD_S(vr), x0);
                    x1 = fma(s[t], (float16) LOAD_S(vr + 1), x1);
                    x2 = fma(s[t], (float16) LOAD_S(vr + 2), x2);
                    x3 = fma(s[t], (float16) LOAD_S(vr + 3), x3);
                }
                acc[d] = fma(acc[d], correction, x0);
                acc[d + 1] = fma(acc[d + 1], correction, x1);
                acc[d + 2] = fma(acc[d + 2], correction, x2);
                acc[d + 3] = fma(acc[d + 3], correction, x3);
            }
        }
        for (; d < HEAD_DIM; d++) {
            float16 x = (float16) 0.0f;
            if (!ragged) {
                _Pragma("unroll") for (int t = 0; t < KEY_BLOCK; t++) x = fma(s[t], (float16) LOAD_S(vp + (size_t) (jb + t) * KV_STEP + d), x);
            } else {
                _Pragma("unroll") for (int t = 0; t < KEY_BLOCK; t++) {
                    const int j = min(jb + t, walk_end - 1);
                    x = fma(s[t], select((float16) LOAD_S(vp + (size_t) j * KV_STEP + d), (float16) 0.0f,
                                         (int16) (jb + t) >= end || (int16) (jb + t) < begin), x);
                }
            }
            acc[d] = fma(acc[d], correction, x);
        }
        l = fma(l, correction, block_sum);
        m = m_new;
    }

    const float16 inv = select((float16) 0.0f, 1.0f / l, l > 0.0f);
    for (int d = 0; d < HEAD_DIM; d++) {
        const float16 o = acc[d] * inv;
        for (int r = 0; r < lanes; r++) out[Q_OFFSET(b, h, i0 + r) + d] = ((const float*) &o)[r];
    }
}

// Combines the per-split partials of attention_fused: with M = max_s m_s and w_s = exp(m_s - M),
// O = sum_s w_s acc_s / sum_s w_s l_s. One work-item per output row; partial rows are head-major (b*H + h)*Sq + i.
__kernel KERNEL_SHAPE void attention_merge(__global const float* partial, __global float* out, const int rows, const int nsplit,
                                           const int H, const int Sq) {
    const int row = get_global_id(0);
    if (row >= rows) return;
    const int i = row % Sq, b = row / Sq / H, h = row / Sq % H;
    float big_m = -INFINITY;
    int nan = 0;
    for (int s = 0; s < nsplit; s++) {
        __global const float* pp = partial + ((size_t) s * rows + row) * (HEAD_DIM + 2);
        big_m = fmax(big_m, pp[0]);
        nan |= isnan(pp[1]);           // a split that met a NaN score (its m may still be -inf)
    }
    float l = 0.0f;
    floatV acc[NV];
    for (int c = 0; c < NV; c++) acc[c] = (floatV) 0.0f;
    if (nan) {
        for (int c = 0; c < NV; c++) acc[c] = (floatV) NAN;
    } else if (big_m != -INFINITY) {
        for (int s = 0; s < nsplit; s++) {
            __global const float* pp = partial + ((size_t) s * rows + row) * (HEAD_DIM + 2);
            if (pp[0] == -INFINITY) continue;     // a split with no visible keys
            const float w = exp(pp[0] - big_m);
            l = fma(pp[1], w, l);
            for (int c = 0; c < NV; c++) acc[c] = fma(CAT(vload, VW)(c, pp + 2), (floatV) w, acc[c]);
        }
    }
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int c = 0; c < NV; c++) CAT(vstore, VW)(acc[c] * inv, c, out + Q_OFFSET(b, h, i));
}

// A decode step's KV cache (one new token per sequence): the step's key and value rows k_new, v_new [B, 1, kv_width]
// go to row kv_len[b] - 1 of sequence b's cache k_cache, v_cache [B, capacity, kv_width] (float32, token-major).
// kv_len [B] holds each sequence's token count after this step; the host writes it once per step for all layers.
// Taking the row from a buffer, not from an argument or a copy offset, keeps every launch of the step the same at
// every position, so the whole step is recorded once and replayed (GraphRuntime); attention_fused then reads the
// same kv_len as its key-padding lengths with Skv = capacity. A count outside [1, capacity] writes nothing: the host
// checks the room first, and this keeps a wrong count inside the buffers. kv_width is a multiple of 4 (HEAD_DIM is).
// Work-item (group of 4 floats of the row, b).
__kernel KERNEL_SHAPE void kv_cache_append(__global const float* k_new, __global const float* v_new,
                                           __global float* k_cache, __global float* v_cache,
                                           __global const int* kv_len, const int kv_width, const int capacity) {
    const int c = get_global_id(0) * 4, b = get_global_id(1);
    if (c >= kv_width) return;
    const int len = kv_len[b];
    if (len < 1 || len > capacity) return;
    const size_t src = (size_t) b * kv_width + c;
    const size_t dst = ((size_t) b * capacity + (len - 1)) * kv_width + c;
    vstore4(vload4(0, k_new + src), 0, k_cache + dst);
    vstore4(vload4(0, v_new + src), 0, v_cache + dst);
}

// ---- Unfused path: three kernels, the Sq x Skv score matrix S [B,H,Sq,Skv] in global memory. ----

// S[b,h,i,j] = scale * q.k + mask, or -INFINITY for a key the causal/padding masks exclude.
// One work-item per (query row, b*h).
__kernel KERNEL_SHAPE void attention_scores(
        __global const store_t* q, __global const store_t* k, __global float* scores,
        const int H, const int Hkv, const int Sq, const int Skv, const float scale,
        const int causal, __global const int* kv_len, const int has_len,
        __global const float* add_mask, const int has_mask, const int mask_bstride, const int mask_hstride) {
    const int i = get_global_id(0);
    const int bh = get_global_id(1);
    if (i >= Sq) return;
    const int b = bh / H, h = bh % H;
    const int hk = h / (H / Hkv);
    const size_t row = (size_t) bh * Sq + i;
    const int end = key_end(i, b, Sq, Skv, causal, kv_len, has_len), begin = key_begin(end, causal);
    floatV qv[NV];
    for (int c = 0; c < NV; c++) qv[c] = LOAD_V(c, q + row * HEAD_DIM) * scale;
    __global const store_t* kp = k + ((size_t) b * Hkv + hk) * Skv * HEAD_DIM;
    __global const float* mrow = add_mask + (size_t) b * mask_bstride + (size_t) h * mask_hstride + (size_t) i * Skv;
    __global float* srow = scores + row * Skv;
    for (int j = 0; j < Skv; j++) {
        if (j >= end || j < begin) { srow[j] = -INFINITY; continue; }
        __global const store_t* kr = kp + (size_t) j * HEAD_DIM;
        floatV d = qv[0] * LOAD_V(0, kr);
        for (int c = 1; c < NV; c++) d = fma(qv[c], LOAD_V(c, kr), d);
        float st = SOFTCAPPED(hsum(d));
        if (has_mask) st += mrow[j];
        srow[j] = st;
    }
}

// In place: P = exp(S - rowmax) / rowsum; a row with every key masked becomes zeros.
__kernel KERNEL_SHAPE void attention_softmax(__global float* scores, const int rows, const int Skv) {
    const int row = get_global_id(0);
    if (row >= rows) return;
    __global float* srow = scores + (size_t) row * Skv;
    float m = -INFINITY;
    int nan = 0;
    for (int j = 0; j < Skv; j++) {
        m = fmax(m, srow[j]);
        nan |= isnan(srow[j]);
    }
    if (m == -INFINITY && !nan) {
        for (int j = 0; j < Skv; j++) srow[j] = 0.0f;
        return;
    }
    float sum = 0.0f;
    for (int j = 0; j < Skv; j++) {
        const float p = exp(srow[j] - m);
        srow[j] = p;
        sum += p;
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < Skv; j++) srow[j] *= inv;
}

// O[b,h,i,:] = sum_j P[b,h,i,j] V[b,hk,j,:]. One work-item per (query row, b*h).
__kernel KERNEL_SHAPE void attention_weighted_values(
        __global const float* probs, __global const store_t* v, __global float* out,
        const int H, const int Hkv, const int Sq, const int Skv) {
    const int i = get_global_id(0);
    const int bh = get_global_id(1);
    if (i >= Sq) return;
    const int b = bh / H, h = bh % H;
    const int hk = h / (H / Hkv);
    const size_t row = (size_t) bh * Sq + i;
    __global const float* prow = probs + row * Skv;
    __global const store_t* vp = v + ((size_t) b * Hkv + hk) * Skv * HEAD_DIM;
    floatV acc[NV];
    for (int c = 0; c < NV; c++) acc[c] = (floatV) 0.0f;
    for (int j = 0; j < Skv; j++) {
        const float p = prow[j];
        if (p == 0.0f) continue;   // masked keys (and the zero rows of fully masked queries)
        __global const store_t* vr = vp + (size_t) j * HEAD_DIM;
        for (int c = 0; c < NV; c++) acc[c] = fma((floatV) p, LOAD_V(c, vr), acc[c]);
    }
    for (int c = 0; c < NV; c++) CAT(vstore, VW)(acc[c], c, out + row * HEAD_DIM);
}

// ---- GPU shape: attention_tiled (one work-group per tile of query rows, key/value tiles in local memory) ----------
// Built only with TILED_BR (never with OFFLOAD_FPGA: its work-groups of many items meet at barriers, which the FPGA
// single-work-item style does not have; FPGA keeps attention_fused). Host side: FusedAttention with
// AttentionConfig.Tiled; CPUs keep attention_fused / attention_fused_rows (PoCL runs local memory as ordinary memory
// and barriers as work-item loop splits, both slower there: docs/MEASURED.md), a test or a user may force it.
//
//   TILED_BR        query rows of one (b, h) per work-group
//   TILED_BC        keys per tile: K, then V, of the tile staged in local memory ([BC][D] floats, reused)
//   TILED_TR        work-items per query row (a power of two, dividing D and BC): item t of a row scores keys
//                   t, t + TR, ... of a tile (each a whole D-long dot product against the row's Q in local memory)
//                   and owns output elements t, t + TR, ... (interleaved: a row's items read consecutive words)
//   TILED_SUBGROUPS 1: the row's max and sum are reduced with sub_group_reduce_max/add (cl_khr_subgroups or
//                   cl_intel_subgroups; with Intel's extension the sub-group size is pinned to TR), when a row's TR
//                   items are one sub-group: local size (TR, BR) is linear along dimension 0, and the kernel checks at
//                   run time that the sub-group size is TR (the same answer for every item of a launch, so the
//                   fallback, local-memory trees with barriers, is taken by the whole work-group or by none).
//                   0: local-memory trees only.
// Work-item (t, row i, split * B*H + b*H + h); local size (TR, BR, 1); global (TR, ceil(Sq / BR) * BR, nsplit * B*H).
// Rows past Sq compute a copy of the last row (every item must reach every barrier) and store nothing. With nsplit > 1
// (few query rows, long keys: decode) each split of split_size keys writes attention_fused's partials (m, l, acc) and
// attention_merge combines them, as flash-decoding does for attention_fused.
//
// Arithmetic: the same online softmax as attention_fused, with a tile of BC keys for its block: per tile the row's
// max m_new = max(m, tile max), weights p = exp(s - m_new), the tile's sum (each item's keys in order, then a tree of
// log2 TR levels) and the tile's weighted values (an fma chain over the tile's keys per element) on their own, then
// l = l * exp(m - m_new) + tile sum, acc = acc * exp(m - m_new) + tile values. Only the summation grouping differs
// from attention_fused: AttentionReference.FLOAT32_BOUND's argument (two-level sums, blocks of at most 64 keys here)
// covers it. Masks as everywhere in this file; a masked key (causal, past kv_len, an additive -inf) is marked with
// the weight -1 and skipped, so a NaN or infinite value at a masked key is never read into the sums (the reference
// never reads it). A NaN or +inf score at a visible key makes the row NaN, as in the reference (each item keeps a
// sticky flag, reduced once at the end).
#if defined(TILED_BR) && !defined(OFFLOAD_FPGA)
#define TBR TILED_BR
#define TBC TILED_BC
#define TTR TILED_TR
#ifndef TILED_SUBGROUPS
#define TILED_SUBGROUPS 0
#endif
// A compiler without sub-groups (PoCL 3.1's CPU device declares none of their functions) builds the local-memory
// reductions whatever was asked: the extension macros are defined exactly where the functions exist.
#if TILED_SUBGROUPS && !defined(cl_khr_subgroups) && !defined(cl_intel_subgroups)
#undef TILED_SUBGROUPS
#define TILED_SUBGROUPS 0
#endif
#if HEAD_DIM % TTR != 0 || TBC % TTR != 0 || (TTR & (TTR - 1)) != 0
#error "TILED_TR must be a power of two dividing HEAD_DIM and TILED_BC"
#endif
#define TDPI (HEAD_DIM / TTR)   // output elements per work-item
#define TKPI (TBC / TTR)        // keys per work-item per tile

#if TILED_SUBGROUPS
#if defined(cl_intel_subgroups)
#pragma OPENCL EXTENSION cl_intel_subgroups : enable
#define TILED_SG_SIZE __attribute__((intel_reqd_sub_group_size(TTR)))
#else
#pragma OPENCL EXTENSION cl_khr_subgroups : enable
#define TILED_SG_SIZE
#endif
#else
#define TILED_SG_SIZE
#endif

// The max (or sum) of x over the TR items of row r, returned to all of them. Every item of the work-group calls it
// (it has barriers): the trees read red[r][0 .. TR) pairwise, halving, a fixed order.
inline float tiled_row_reduce(float x, const int is_max, __local float* red, const int r, const int t, const int use_sg) {
#if TILED_SUBGROUPS
    if (use_sg) return is_max ? sub_group_reduce_max(x) : sub_group_reduce_add(x);
#endif
    __local float* row = red + r * TTR;
    row[t] = x;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = TTR / 2; span > 0; span >>= 1) {
        if (t < span) row[t] = is_max ? fmax(row[t], row[t + span]) : row[t] + row[t + span];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float result = row[0];
    barrier(CLK_LOCAL_MEM_FENCE);   // row[] is written again by the next reduction
    return result;
}

__kernel __attribute__((reqd_work_group_size(TTR, TBR, 1))) TILED_SG_SIZE void attention_tiled(
        __global const store_t* q, __global const store_t* k, __global const store_t* v,
        __global float* out,        // O when nsplit == 1
        __global float* partial,    // [nsplit][B*H*Sq][D + 2] = (m, l, acc[D]) when nsplit > 1, as attention_fused's
        const int H, const int Hkv, const int Sq, const int Skv, const float scale,
        const int causal, __global const int* kv_len, const int has_len,
        __global const float* add_mask, const int has_mask, const int mask_bstride, const int mask_hstride,
        const int split_size, const int nsplit) {
    __local float qs[TBR * HEAD_DIM];     // the tile's query rows, scaled
    __local float kvs[TBC * HEAD_DIM];    // K of the key tile, then its V
    __local float ps[TBR * TBC];          // scores, then weights (-1: masked)
    __local float red[TBR * TTR];         // the local-memory reductions
    const int t = get_local_id(0), r = get_local_id(1);
    const int lid = r * TTR + t;
    const int i0 = get_group_id(1) * TBR;
    const int BH = get_global_size(2) / nsplit;
    const int bh = get_global_id(2) % BH, split = get_global_id(2) / BH;
    const int b = bh / H, h = bh % H;
    const int hk = h / (H / Hkv);
    const int i = min(i0 + r, Sq - 1);
#if TILED_SUBGROUPS
    const int use_sg = get_max_sub_group_size() == TTR;
#else
    const int use_sg = 0;
#endif

    for (int e = lid; e < TBR * HEAD_DIM; e += TBR * TTR) {
        const int row = e / HEAD_DIM, c = e % HEAD_DIM;
        qs[e] = LOAD_S(q + Q_OFFSET(b, h, min(i0 + row, Sq - 1)) + c) * scale;
    }
    // Keys past the work-group's last row's end are masked for every row (with causal, the end grows with the row).
    // This split's keys: [split * split_size, its end), further cut to what the rows see.
    // A sliding window: the walk starts at the work-group's first row's first key (the same for every item: the loop
    // below has barriers), each row masks the keys before its own.
    const int j_first = max(split * split_size, key_begin(key_end(i0, b, Sq, Skv, causal, kv_len, has_len), causal));
    const int walk_end = min(key_end(min(i0 + TBR, Sq) - 1, b, Sq, Skv, causal, kv_len, has_len), split * split_size + split_size);
    const int my_end = min(key_end(i, b, Sq, Skv, causal, kv_len, has_len), walk_end);
    const int my_begin = key_begin(key_end(i, b, Sq, Skv, causal, kv_len, has_len), causal);
    __global const store_t* kp = k + KV_OFFSET(b, hk, 0);
    __global const store_t* vp = v + KV_OFFSET(b, hk, 0);
    __global const float* mrow = add_mask + (size_t) b * mask_bstride + (size_t) h * mask_hstride + (size_t) i * Skv;
    __local const float* qrow = qs + r * HEAD_DIM;
    __local float* prow = ps + r * TBC;

    float m = -INFINITY, l = 0.0f;
    int bad = 0;                          // a NaN or +inf score met by this item: the row is NaN
    float acc[TDPI];
    for (int u = 0; u < TDPI; u++) acc[u] = 0.0f;

    for (int j0 = j_first; j0 < walk_end; j0 += TBC) {
        const int nk = min(TBC, walk_end - j0);
        barrier(CLK_LOCAL_MEM_FENCE);     // the previous tile's V (and, first time, qs) done with / written
        for (int e = lid; e < TBC * HEAD_DIM; e += TBR * TTR) {
            const int jj = e / HEAD_DIM, c = e % HEAD_DIM;
            kvs[e] = jj < nk ? LOAD_S(kp + (size_t) (j0 + jj) * KV_STEP + c) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        float tile_max = -INFINITY;
        for (int u = 0; u < TKPI; u++) {
            const int jj = t + u * TTR, j = j0 + jj;
            float s = -INFINITY;
            if (jj < nk && j < my_end && j >= my_begin) {
                __local const float* kr = kvs + jj * HEAD_DIM;
                float d = 0.0f;
                for (int c = 0; c < HEAD_DIM; c++) d = fma(qrow[c], kr[c], d);
                d = SOFTCAPPED(d);
                s = has_mask ? d + mrow[j] : d;
                bad |= isnan(s) || s == INFINITY;
            }
            prow[jj] = s;
            tile_max = fmax(tile_max, s);
        }
        tile_max = tiled_row_reduce(tile_max, 1, red, r, t, use_sg);
        const float m_new = fmax(m, tile_max);
        // No visible key so far (m_new = -inf): weights and sums stay 0; the factor must not be exp(-inf + inf).
        const float correction = m_new == -INFINITY ? 1.0f : exp(m - m_new);
        float part = 0.0f;
        for (int u = 0; u < TKPI; u++) {
            const int jj = t + u * TTR;
            const float s = prow[jj];
            const float p = s == -INFINITY ? -1.0f : exp(s - m_new);
            prow[jj] = p;
            if (p >= 0.0f) part += p;
        }
        const float tile_sum = tiled_row_reduce(part, 0, red, r, t, use_sg);
        barrier(CLK_LOCAL_MEM_FENCE);     // K scored, the row's weights in ps
        for (int e = lid; e < TBC * HEAD_DIM; e += TBR * TTR) {
            const int jj = e / HEAD_DIM, c = e % HEAD_DIM;
            kvs[e] = jj < nk ? LOAD_S(vp + (size_t) (j0 + jj) * KV_STEP + c) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int u = 0; u < TDPI; u++) {
            const int c = t + u * TTR;
            float x = 0.0f;
            for (int jj = 0; jj < nk; jj++) {
                const float p = prow[jj];
                if (p >= 0.0f) x = fma(p, kvs[jj * HEAD_DIM + c], x);
            }
            acc[u] = fma(acc[u], correction, x);
        }
        l = fma(l, correction, tile_sum);
        m = m_new;
    }

    const int row_bad = tiled_row_reduce(bad ? 1.0f : 0.0f, 1, red, r, t, use_sg) > 0.0f;
    if (i0 + r >= Sq) return;
    if (nsplit == 1) {
        // l == 0 only when every key was masked: the row is defined as zeros.
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        __global float* o = out + Q_OFFSET(b, h, i);
        for (int u = 0; u < TDPI; u++) o[t + u * TTR] = row_bad ? NAN : acc[u] * inv;
    } else {
        // A bad row's partial has a NaN sum: attention_merge makes the row NaN.
        __global float* pp = partial + ((size_t) split * BH * Sq + (size_t) bh * Sq + i) * (HEAD_DIM + 2);
        if (t == 0) {
            pp[0] = m;
            pp[1] = row_bad ? NAN : l;
        }
        for (int u = 0; u < TDPI; u++) pp[2 + t + u * TTR] = row_bad ? NAN : acc[u];
    }
}
#endif // TILED_BR

#endif // HEAD_DIM

// ---- ONNX Runtime's form (imported models) ------------------------------------------------------------------
// The kernels below reproduce, operation for operation, how ONNX Runtime's CPU provider rounds an exported BERT
// graph's attention (judge: dev.offload.ops.attention.AttentionReference.onnxRuntime, through
// dev.offload.math.OnnxRuntimeCpu, which they must match bit for bit), so that imported int8 models re-quantize
// exactly the values ONNX Runtime re-quantizes. Hence: no contraction of a * b + c into fma (every fma below is
// written out, where ORT's kernels use one), correctly rounded division (the program is built with
// -cl-fp32-correctly-rounded-divide-sqrt), and sums in ORT's order.
#ifdef ONNX_ATTENTION
#pragma OPENCL FP_CONTRACT OFF

// exp(x + neg_max) as MLAS's AVX-512F sum-of-exponentials kernel, 16 lanes at a time (the kernel's own width), each
// lane with its own shift (a row's max broadcast to all lanes, or one query row per lane): clamp
// at -103.97, m = round(x / ln 2) by the 1.5 * 2^23 trick, reduced argument in two fma steps, degree-6 polynomial in
// fma steps, times 2^m (one rounding).
inline float16 onnx_exp_shifted16(const float16 x, const float16 neg_max) {
    // The clamp keeps a NaN, as MLAS's max (and the Java reference's Math.max) does; fmax alone would turn it into
    // exp(-103.97), a finite weight.
    const float16 shifted = x + neg_max;
    float16 v = select(fmax((float16) (-103.9720840454f), shifted), shifted, isnan(shifted));
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
        const float16 e = select((float16) 0.0f, onnx_exp_shifted16(vload16(0, p + j0), (float16) (-max)), lane + j0 < n);
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
    for (int r = 0; r < 16; r++) {
        const __global float* qr = q + ((size_t) b * Sq + i0 + min(r, rows - 1)) * H * D + (size_t) h * D;
        for (int d = 0; d < D; d++) qt[d * 16 + r] = qr[d];
    }

    // Scores 8 keys at a time: 8 independent fma chains (one chain alone waits on the fma latency at every step),
    // each over d in order, as the single-key loop after them computes a key's.
    float16 max = (float16) -INFINITY;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        const __global float* kr = kb + j * kv_stride;
        float16 a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, a4 = 0.0f, a5 = 0.0f, a6 = 0.0f, a7 = 0.0f;
        for (int d = 0; d < D; d++) {
            const float16 qd = vload16(d, qt);
            a0 = fma(qd, (float16) kr[d], a0);
            a1 = fma(qd, (float16) kr[kv_stride + d], a1);
            a2 = fma(qd, (float16) kr[2 * kv_stride + d], a2);
            a3 = fma(qd, (float16) kr[3 * kv_stride + d], a3);
            a4 = fma(qd, (float16) kr[4 * kv_stride + d], a4);
            a5 = fma(qd, (float16) kr[5 * kv_stride + d], a5);
            a6 = fma(qd, (float16) kr[6 * kv_stride + d], a6);
            a7 = fma(qd, (float16) kr[7 * kv_stride + d], a7);
        }
        const float16 s0 = a0 / divisor, s1 = a1 / divisor, s2 = a2 / divisor, s3 = a3 / divisor;
        const float16 s4 = a4 / divisor, s5 = a5 / divisor, s6 = a6 / divisor, s7 = a7 / divisor;
        vstore16(s0, j, p); vstore16(s1, j + 1, p); vstore16(s2, j + 2, p); vstore16(s3, j + 3, p);
        vstore16(s4, j + 4, p); vstore16(s5, j + 5, p); vstore16(s6, j + 6, p); vstore16(s7, j + 7, p);
        max = fmax(fmax(fmax(fmax(fmax(fmax(fmax(fmax(max, s0), s1), s2), s3), s4), s5), s6), s7);   // in key order
    }
    for (; j < n; j++) {
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
        const float16 e = onnx_exp_shifted16(vload16(j, p), -max);
        vstore16(e, j, p);
        lanes[j % 16] += e;
    }
    float16 a[8];
    for (int l = 0; l < 8; l++) a[l] = lanes[l] + lanes[l + 8];
    const float16 sum = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    const float16 inv = 1.0f / sum;
    for (int j = 0; j < n; j++) vstore16(vload16(j, p) * inv, j, p);

    // Outputs 8 elements at a time, 8 independent fma chains over the keys in order (as the single-element loop).
    __global float* o = out + ((size_t) b * Sq + i0) * H * D + (size_t) h * D;
    int d = 0;
    for (; d + 8 <= D; d += 8) {
        float16 c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f, c4 = 0.0f, c5 = 0.0f, c6 = 0.0f, c7 = 0.0f;
        for (int j = 0; j < n; j++) {
            const float16 pj = vload16(j, p);
            const __global float* w = vb + j * kv_stride + d;
            c0 = fma(pj, (float16) w[0], c0);
            c1 = fma(pj, (float16) w[1], c1);
            c2 = fma(pj, (float16) w[2], c2);
            c3 = fma(pj, (float16) w[3], c3);
            c4 = fma(pj, (float16) w[4], c4);
            c5 = fma(pj, (float16) w[5], c5);
            c6 = fma(pj, (float16) w[6], c6);
            c7 = fma(pj, (float16) w[7], c7);
        }
        for (int r = 0; r < rows; r++) {
            const float8 row = (float8) (((const float*) &c0)[r], ((const float*) &c1)[r], ((const float*) &c2)[r],
                                         ((const float*) &c3)[r], ((const float*) &c4)[r], ((const float*) &c5)[r],
                                         ((const float*) &c6)[r], ((const float*) &c7)[r]);
            vstore8(row, 0, o + (size_t) r * H * D + d);
        }
    }
    for (; d < D; d++) {
        float16 acc = (float16) 0.0f;
        for (int j = 0; j < n; j++) acc = fma(vload16(j, p), (float16) vb[j * kv_stride + d], acc);
        for (int r = 0; r < rows; r++) o[(size_t) r * H * D + d] = ((const float*) &acc)[r];
    }
}
#endif // ONNX_ATTENTION
