/* dot.c — the matvec dot products: portable reference and SIMD paths (see dot.h for
 * the arithmetic every path must reproduce bit for bit). */
#include "dot.h"
#include "fp16.h"

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#define DOT_SSE2 1
#endif
#if defined(__x86_64__) && __STDC_HOSTED__ && defined(__GNUC__)
/* Hosted x86_64 (slm-run): AVX2 and AVX-512 functions are compiled with target
 * attributes and called only when the CPU reports the features. The kernels are
 * freestanding and stay at SSE2 (QEMU TCG has no AVX). */
#include <immintrin.h>
#define DOT_AVX 1
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define DOT_NEON 1
#endif

/* ---- portable reference ---- */

/* 16 accumulators → one float, in dot.h's fixed tree. */
static float reduce16(float *a) {
    for (int k = 0; k < 8; k++) a[k] += a[k + 8];
    for (int k = 0; k < 4; k++) a[k] += a[k + 4];
    return (a[0] + a[2]) + (a[1] + a[3]);
}

static float f32_portable(const float *w, const float *x, int n) {
    float acc[32] = {0};
    int i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 32; k++) acc[k] += w[i + k] * x[i + k];
    for (int k = 0; k < 16; k++) acc[k] += acc[k + 16];
    float sum = reduce16(acc);
    for (; i < n; i++) sum += w[i] * x[i];
    return sum;
}

/* Block b's 8 lane sums (ints, exact) → acc[8 * (b & 1) + k]. */
static void add_lanes(float *acc, int b, const int32_t s[8], float d) {
    float *a = acc + 8 * (b & 1);
    for (int k = 0; k < 8; k++) a[k] += (float)s[k] * d;
}

static float q8_0_portable(const uint8_t *w, const q8_act *x, int n) {
    float acc[16] = {0};
    for (int b = 0; b < n / QK; b++, w += 34) {
        const int8_t *wq = (const int8_t *)(w + 2), *xq = x->q + b * QK;
        int32_t s[8];
        for (int k = 0; k < 8; k++) {
            s[k] = 0;
            for (int j = 4 * k; j < 4 * k + 4; j++) s[k] += wq[j] * xq[j];
        }
        add_lanes(acc, b, s, h2f(rd16(w)) * x->d[b]);
    }
    return reduce16(acc);
}

static float q4_0_portable(const uint8_t *w, const q8_act *x, int n) {
    float acc[16] = {0};
    for (int b = 0; b < n / QK; b++, w += 18) {
        const uint8_t *q = w + 2;
        const int8_t *xq = x->q + b * QK;
        int32_t s[8];
        for (int k = 0; k < 8; k++) {
            s[k] = 0;
            for (int j = 4 * k; j < 4 * k + 4; j++) {
                int v = j < 16 ? (q[j] & 15) : (q[j - 16] >> 4);
                s[k] += (v - 8) * xq[j];
            }
        }
        add_lanes(acc, b, s, h2f(rd16(w)) * x->d[b]);
    }
    return reduce16(acc);
}

static const dot_impl portable = {"portable", f32_portable, q8_0_portable, q4_0_portable, 0, 0, 0};

/* ---- SSE2 (every x86_64; the x86_64 kernel) ---- */
#ifdef DOT_SSE2
static inline float sse_reduce4(__m128 v) { /* (a0 + a2) + (a1 + a3) */
    __m128 t = _mm_add_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

static float f32_sse2(const float *w, const float *x, int n) {
    __m128 a[8];
    for (int k = 0; k < 8; k++) a[k] = _mm_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 8; k++)
            a[k] = _mm_add_ps(a[k], _mm_mul_ps(_mm_loadu_ps(w + i + 4 * k), _mm_loadu_ps(x + i + 4 * k)));
    for (int k = 0; k < 4; k++) a[k] = _mm_add_ps(a[k], a[k + 4]);   /* acc[k] += acc[k+16] */
    a[0] = _mm_add_ps(a[0], a[2]), a[1] = _mm_add_ps(a[1], a[3]);   /* acc[k] += acc[k+8] */
    float sum = sse_reduce4(_mm_add_ps(a[0], a[1]));                 /* acc[k] += acc[k+4] */
    for (; i < n; i++) sum += w[i] * x[i];
    return sum;
}

static inline __m128i sx_lo(__m128i v) { return _mm_unpacklo_epi8(v, _mm_cmpgt_epi8(_mm_setzero_si128(), v)); }
static inline __m128i sx_hi(__m128i v) { return _mm_unpackhi_epi8(v, _mm_cmpgt_epi8(_mm_setzero_si128(), v)); }

/* Lane sums of 4 for 16 int8 pairs: pmaddwd gives sums of 2, one more pairwise add. */
static inline __m128i sse_sum4(__m128i w, __m128i x) {
    __m128 p = _mm_castsi128_ps(_mm_madd_epi16(sx_lo(w), sx_lo(x)));
    __m128 q = _mm_castsi128_ps(_mm_madd_epi16(sx_hi(w), sx_hi(x)));
    return _mm_add_epi32(_mm_castps_si128(_mm_shuffle_ps(p, q, _MM_SHUFFLE(2, 0, 2, 0))),
                         _mm_castps_si128(_mm_shuffle_ps(p, q, _MM_SHUFFLE(3, 1, 3, 1))));
}

/* acc: [even lo, even hi, odd lo, odd hi] (dot.h's acc[0..3], [4..7], [8..11], [12..15]) */
static inline float sse_reduce16(__m128 *a) {
    __m128 lo = _mm_add_ps(a[0], a[2]), hi = _mm_add_ps(a[1], a[3]);
    return sse_reduce4(_mm_add_ps(lo, hi));
}

static inline void sse_block(__m128 *a, int b, __m128i w0, __m128i w1, const int8_t *xq, float d) {
    __m128i s0 = sse_sum4(w0, _mm_loadu_si128((const __m128i *)xq));
    __m128i s1 = sse_sum4(w1, _mm_loadu_si128((const __m128i *)(xq + 16)));
    __m128 dv = _mm_set1_ps(d);
    __m128 *p = a + 2 * (b & 1);
    p[0] = _mm_add_ps(p[0], _mm_mul_ps(_mm_cvtepi32_ps(s0), dv));
    p[1] = _mm_add_ps(p[1], _mm_mul_ps(_mm_cvtepi32_ps(s1), dv));
}

static float q8_0_sse2(const uint8_t *w, const q8_act *x, int n) {
    __m128 a[4] = {_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps()};
    for (int b = 0; b < n / QK; b++, w += 34)
        sse_block(a, b, _mm_loadu_si128((const __m128i *)(w + 2)), _mm_loadu_si128((const __m128i *)(w + 18)),
                  x->q + b * QK, h2f(rd16(w)) * x->d[b]);
    return sse_reduce16(a);
}

static float q4_0_sse2(const uint8_t *w, const q8_act *x, int n) {
    __m128 a[4] = {_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps()};
    const __m128i m4 = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
    for (int b = 0; b < n / QK; b++, w += 18) {
        __m128i q = _mm_loadu_si128((const __m128i *)(w + 2));
        __m128i lo = _mm_sub_epi8(_mm_and_si128(q, m4), eight);
        __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), eight);
        sse_block(a, b, lo, hi, x->q + b * QK, h2f(rd16(w)) * x->d[b]);
    }
    return sse_reduce16(a);
}

static const dot_impl sse2 = {"sse2", f32_sse2, q8_0_sse2, q4_0_sse2, 0, 0, 0};
#endif

/* ---- NEON (aarch64 kernel; no dot-product extension on cortex-a57) ---- */
#ifdef DOT_NEON
static inline float neon_reduce4(float32x4_t v) { /* (a0 + a2) + (a1 + a3) */
    float32x2_t t = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(t, 0) + vget_lane_f32(t, 1);
}

static float f32_neon(const float *w, const float *x, int n) {
    float32x4_t a[8];
    for (int k = 0; k < 8; k++) a[k] = vdupq_n_f32(0.0f);
    int i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 8; k++) a[k] = vaddq_f32(a[k], vmulq_f32(vld1q_f32(w + i + 4 * k), vld1q_f32(x + i + 4 * k)));
    for (int k = 0; k < 4; k++) a[k] = vaddq_f32(a[k], a[k + 4]);
    a[0] = vaddq_f32(a[0], a[2]), a[1] = vaddq_f32(a[1], a[3]);
    float sum = neon_reduce4(vaddq_f32(a[0], a[1]));
    for (; i < n; i++) sum += w[i] * x[i];
    return sum;
}

/* Lane sums of 4 for 16 int8 pairs: widening multiplies, then two pairwise adds. */
static inline int32x4_t neon_sum4(int8x16_t w, int8x16_t x) {
    int16x8_t p0 = vmull_s8(vget_low_s8(w), vget_low_s8(x)), p1 = vmull_high_s8(w, x);
    return vpaddq_s32(vpaddlq_s16(p0), vpaddlq_s16(p1));
}

static inline void neon_block(float32x4_t *a, int b, int8x16_t w0, int8x16_t w1, const int8_t *xq, float d) {
    int32x4_t s0 = neon_sum4(w0, vld1q_s8(xq)), s1 = neon_sum4(w1, vld1q_s8(xq + 16));
    float32x4_t *p = a + 2 * (b & 1);
    p[0] = vaddq_f32(p[0], vmulq_n_f32(vcvtq_f32_s32(s0), d));
    p[1] = vaddq_f32(p[1], vmulq_n_f32(vcvtq_f32_s32(s1), d));
}

static inline float neon_reduce16(float32x4_t *a) {
    return neon_reduce4(vaddq_f32(vaddq_f32(a[0], a[2]), vaddq_f32(a[1], a[3])));
}

static float q8_0_neon(const uint8_t *w, const q8_act *x, int n) {
    float32x4_t a[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    for (int b = 0; b < n / QK; b++, w += 34)
        neon_block(a, b, vld1q_s8((const int8_t *)(w + 2)), vld1q_s8((const int8_t *)(w + 18)), x->q + b * QK,
                   h2f(rd16(w)) * x->d[b]);
    return neon_reduce16(a);
}

static float q4_0_neon(const uint8_t *w, const q8_act *x, int n) {
    float32x4_t a[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    const int8x16_t eight = vdupq_n_s8(8);
    for (int b = 0; b < n / QK; b++, w += 18) {
        uint8x16_t q = vld1q_u8(w + 2);
        int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(15))), eight);
        int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
        neon_block(a, b, lo, hi, x->q + b * QK, h2f(rd16(w)) * x->d[b]);
    }
    return neon_reduce16(a);
}

static const dot_impl neon = {"neon", f32_neon, q8_0_neon, q4_0_neon, 0, 0, 0};
#endif

/* ---- AVX2 and AVX-512 VNNI (hosted x86_64 only, chosen at run time) ---- */
#ifdef DOT_AVX
#define AVX2 __attribute__((target("avx2")))
#define AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))

static inline AVX2 float avx_reduce8(__m256 v) { /* acc[k] += acc[k+4], then the 4-lane tree */
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

static AVX2 float f32_avx2(const float *w, const float *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i)));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8)));
        a2 = _mm256_add_ps(a2, _mm256_mul_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16)));
        a3 = _mm256_add_ps(a3, _mm256_mul_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24)));
    }
    float sum = avx_reduce8(_mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3)));
    for (; i < n; i++) sum += w[i] * x[i];
    return sum;
}

/* 8 lane sums of 4 for 32 pairs, weights signed: |w| x sign(x, w) as u8 x s8 (exact:
 * |w| <= 128, |x| <= 127, so a pair sum stays under 2^15). */
static inline AVX2 __m256i avx2_sum4_q8(__m256i w, __m256i x) {
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

static AVX2 float q8_0_avx2(const uint8_t *w, const q8_act *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0; /* even blocks, odd blocks */
    int nb = n / QK, b = 0;
    for (; b + 2 <= nb; b += 2, w += 68) {
        __m256i s0 = avx2_sum4_q8(_mm256_loadu_si256((const __m256i *)(w + 2)), _mm256_loadu_si256((const __m256i *)(x->q + b * QK)));
        __m256i s1 = avx2_sum4_q8(_mm256_loadu_si256((const __m256i *)(w + 36)), _mm256_loadu_si256((const __m256i *)(x->q + b * QK + QK)));
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(h2f(rd16(w)) * x->d[b])));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(h2f(rd16(w + 34)) * x->d[b + 1])));
    }
    if (b < nb) {
        __m256i s0 = avx2_sum4_q8(_mm256_loadu_si256((const __m256i *)(w + 2)), _mm256_loadu_si256((const __m256i *)(x->q + b * QK)));
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(h2f(rd16(w)) * x->d[b])));
    }
    return avx_reduce8(_mm256_add_ps(a0, a1));
}

/* Q4_0 block as 32 unsigned nibbles in element order: low nibbles, then high ones. */
static inline AVX2 __m256i avx2_nibbles(const uint8_t *q) {
    __m128i v = _mm_loadu_si128((const __m128i *)q), m4 = _mm_set1_epi8(15);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m4), _mm_and_si128(v, m4));
}

/* sum (v - 8) x = sum v x - 8 sum x: nibbles are unsigned, so maddubs takes them as they are. */
static inline AVX2 __m256i avx2_sum4_q4(__m256i v, __m256i x, const int32_t *s4) {
    __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(v, x), _mm256_set1_epi16(1));
    return _mm256_sub_epi32(s, _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)s4), 3));
}

static AVX2 float q4_0_avx2(const uint8_t *w, const q8_act *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int nb = n / QK, b = 0;
    for (; b + 2 <= nb; b += 2, w += 36) {
        __m256i s0 = avx2_sum4_q4(avx2_nibbles(w + 2), _mm256_loadu_si256((const __m256i *)(x->q + b * QK)), x->s4 + b * 8);
        __m256i s1 = avx2_sum4_q4(avx2_nibbles(w + 20), _mm256_loadu_si256((const __m256i *)(x->q + b * QK + QK)), x->s4 + b * 8 + 8);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(h2f(rd16(w)) * x->d[b])));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(h2f(rd16(w + 18)) * x->d[b + 1])));
    }
    if (b < nb) {
        __m256i s0 = avx2_sum4_q4(avx2_nibbles(w + 2), _mm256_loadu_si256((const __m256i *)(x->q + b * QK)), x->s4 + b * 8);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(h2f(rd16(w)) * x->d[b])));
    }
    return avx_reduce8(_mm256_add_ps(a0, a1));
}

static const dot_impl avx2 = {"avx2", f32_avx2, q8_0_avx2, q4_0_avx2, 0, 0, 0};

/* zmm accumulator = dot.h's acc[0..15]: lanes 0-7 even blocks, 8-15 odd blocks. */
static inline AVX512 float avx512_reduce16(__m512 a) {
    __m256 s = _mm256_add_ps(_mm512_castps512_ps256(a), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
    return avx_reduce8(s);
}

static AVX512 float f32_avx512(const float *w, const float *x, int n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_add_ps(a0, _mm512_mul_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i)));
        a1 = _mm512_add_ps(a1, _mm512_mul_ps(_mm512_loadu_ps(w + i + 16), _mm512_loadu_ps(x + i + 16)));
    }
    float sum = avx512_reduce16(_mm512_add_ps(a0, a1));
    for (; i < n; i++) sum += w[i] * x[i];
    return sum;
}

/* Two blocks' scales: lanes 0-7 d0, 8-15 d1. */
static inline AVX512 __m512 avx512_d2(float d0, float d1) {
    return _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(d0), _mm512_set1_ps(d1));
}

static inline AVX512 __m512i avx512_join(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

static AVX512 float q8_0_avx512(const uint8_t *w, const q8_act *x, int n) {
    __m512 acc = _mm512_setzero_ps();
    int nb = n / QK, b = 0;
    for (; b + 2 <= nb; b += 2, w += 68) {
        __m512i wv = avx512_join(_mm256_loadu_si256((const __m256i *)(w + 2)), _mm256_loadu_si256((const __m256i *)(w + 36)));
        __m512i xv = _mm512_loadu_si512(x->q + b * QK);
        __mmask64 neg = _mm512_movepi8_mask(wv);
        __m512i sx = _mm512_mask_sub_epi8(xv, neg, _mm512_setzero_si512(), xv); /* x * sign(w) */
        __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(wv), sx);
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_cvtepi32_ps(s), avx512_d2(h2f(rd16(w)) * x->d[b], h2f(rd16(w + 34)) * x->d[b + 1])));
    }
    if (b < nb) { /* an odd last block goes to the even lanes only */
        __m256i s = avx2_sum4_q8(_mm256_loadu_si256((const __m256i *)(w + 2)), _mm256_loadu_si256((const __m256i *)(x->q + b * QK)));
        __m256 p = _mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(h2f(rd16(w)) * x->d[b]));
        acc = _mm512_mask_add_ps(acc, 0x00ff, acc, _mm512_castps256_ps512(p));
    }
    return avx512_reduce16(acc);
}

static AVX512 float q4_0_avx512(const uint8_t *w, const q8_act *x, int n) {
    __m512 acc = _mm512_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(15);
    int nb = n / QK, b = 0;
    for (; b + 2 <= nb; b += 2, w += 36) {
        __m256i q = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)(w + 20)), _mm_loadu_si128((const __m128i *)(w + 2)));
        __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        /* [lo0 lo1 hi0 hi1] → [lo0 hi0 lo1 hi1]: each block's 32 elements in order */
        __m512i v = avx512_join(lo, hi);
        v = _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(3, 1, 2, 0));
        __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v, _mm512_loadu_si512(x->q + b * QK));
        s = _mm512_sub_epi32(s, _mm512_slli_epi32(_mm512_loadu_si512(x->s4 + b * 8), 3));
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_cvtepi32_ps(s), avx512_d2(h2f(rd16(w)) * x->d[b], h2f(rd16(w + 18)) * x->d[b + 1])));
    }
    if (b < nb) {
        __m256i s = avx2_sum4_q4(avx2_nibbles(w + 2), _mm256_loadu_si256((const __m256i *)(x->q + b * QK)), x->s4 + b * 8);
        __m256 p = _mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(h2f(rd16(w)) * x->d[b]));
        acc = _mm512_mask_add_ps(acc, 0x00ff, acc, _mm512_castps256_ps512(p));
    }
    return avx512_reduce16(acc);
}

/* ---- the rows functions: 4 rows per pass in ymm registers ----
 * Each row's arithmetic is exactly the one-row function's (dot.h): per block an exact
 * int32 lane sum s[k], then acc[8 * (b & 1) + k] += (float)s[k] * d, d = d_w * d_x.
 * Two ymm accumulators per row hold acc[0..7] (even blocks) and acc[8..15] (odd).
 * What makes them faster than one row at a time (measured on tiny_10M, see
 * bench/inference/README.md): every accumulator stays in a register (the 4 x 2 array
 * of the earlier version lived on the stack, a store-to-load chain per block), the
 * activation and its offsets are loaded once for 4 rows, and the per-block scales are
 * converted 16 at a time (F16C; exact: fp16 -> fp32 has no rounding) before the loop.
 *   Q8_0: w + 128 as unsigned bytes (w ^ 0x80) times x by vpdpbusd, started from
 *         -128 * (x's sums of 4), is exactly sum w x; one xor replaces abs/sign.
 *   Q4_0: nibbles as they are, started from -8 * (x's sums of 4).
 * The dot products of a row are never split, so the sums are the same in any order
 * of rows (threads, where a host uses them, must split by rows). */
#define ROWS_MAXB 256 /* blocks per row on the fast path (n <= 8192); longer rows: one at a time */
#define ROWS_CHUNK 16 /* rows whose scales are converted together */

/* ds[i * nbp + b] = fp16 scale of row i's block b times x's scale b, for nr rows; the
 * scales from dh (slm_mat.dh: contiguous, converted 16 at a time) or else copied out of
 * the blocks for all nr rows first (a vector load of just-stored bytes waits for the
 * stores, paid once per call here; a gather measured slower still on Zen 4). */
static inline AVX512 void rows_scales(float *ds, int nbp, const uint8_t *w, size_t rb, int nr, int nb, int bsz,
                                      const float *xd, const uint16_t *dh) {
    uint16_t h[ROWS_CHUNK * ROWS_MAXB];
    int hs = nb;
    if (!dh) {
        for (int i = 0; i < nr; i++) {
            const uint8_t *p = w + (size_t)i * rb;
            for (int b = 0; b < nb; b++) h[i * nbp + b] = rd16(p + (size_t)b * bsz);
        }
        dh = h, hs = nbp;
    }
    for (int i = 0; i < nr; i++)
        for (int b = 0; b < nb; b += 16) {
            __mmask16 m = nb - b >= 16 ? 0xffff : (__mmask16)((1u << (nb - b)) - 1);
            __m512 d = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, dh + i * hs + b));
            _mm512_storeu_ps(ds + i * nbp + b, _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, xd + b))); /* ds rows are padded to 16 */
        }
}

/* init[8b + k] = -(s4[8b + k] << shift) */
static inline AVX512 void rows_init(int32_t *init, const int32_t *s4, int nb, int shift) {
    for (int k = 0; k < 8 * nb; k += 8) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(s4 + k));
        _mm256_storeu_si256((__m256i *)(init + k), _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_sll_epi32(v, _mm_cvtsi32_si128(shift))));
    }
}

#define ROWS_ACC(i) __m256 e##i = _mm256_setzero_ps(), o##i = e##i
#define ROWS_ADD(acc, i, s, b) acc##i = _mm256_add_ps(acc##i, _mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(ds[(i) * nbp + (b)])))
/* The weights of the rows two passes ahead, one line per row every other block: without
 * it the loads wait on L3 / memory (the scale table took away the block-by-block scale
 * reads that used to touch every line first). */
#define ROWS_PF(bsz, b)                                                                                                 \
    do {                                                                                                                \
        if (((b) & 1) == 0 && nr == 4)                                                                                  \
            for (int pi = 0; pi < 4; pi++) _mm_prefetch((const char *)wr + (8 + pi) * rb + (size_t)(b) * (bsz), _MM_HINT_T0); \
    } while (0)
#define ROWS_OUT(i) out[r + (i)] = avx_reduce8(_mm256_add_ps(e##i, o##i))

#define Q8_S(i, b) _mm256_dpbusd_epi32(iv, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(wr + (i) * rb + (size_t)(b) * 34 + 2)), flip), xv)
#define Q8_STEP(acc, b)                                                                                                   \
    do {                                                                                                                \
        __m256i xv = _mm256_loadu_si256((const __m256i *)(x->q + (b) * QK));                                            \
        __m256i iv = _mm256_loadu_si256((const __m256i *)(init + (b) * 8));                                              \
        ROWS_PF(34, b);                                                                                               \
        ROWS_ADD(acc, 0, Q8_S(0, b), b);                                                                                \
        if (nr == 4) { ROWS_ADD(acc, 1, Q8_S(1, b), b); ROWS_ADD(acc, 2, Q8_S(2, b), b); ROWS_ADD(acc, 3, Q8_S(3, b), b); } \
    } while (0)

static inline __attribute__((always_inline)) AVX512 void q8_0_rows_n(float *out, int r, const uint8_t *wr, size_t rb, int nr,
                                                                     const q8_act *x, int nb, const int32_t *init, float *ds, int nbp) {
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    ROWS_ACC(0); ROWS_ACC(1); ROWS_ACC(2); ROWS_ACC(3);
    int b = 0;
    for (; b + 2 <= nb; b += 2) { Q8_STEP(e, b); Q8_STEP(o, b + 1); }
    if (b < nb) Q8_STEP(e, b);
    ROWS_OUT(0);
    if (nr == 4) { ROWS_OUT(1); ROWS_OUT(2); ROWS_OUT(3); }
}

static AVX512 void q8_0_rows_avx512(float *out, const uint8_t *w, size_t rb, int rows, const q8_act *x, int n,
                                   const uint16_t *dh) {
    int nb = n / QK, nbp = (nb + 15) & ~15, r = 0;
    if (nb > ROWS_MAXB) {
        for (; r < rows; r++) out[r] = q8_0_avx512(w + (size_t)r * rb, x, n);
        return;
    }
    int32_t init[8 * ROWS_MAXB];
    float ds[ROWS_CHUNK * ROWS_MAXB];
    rows_init(init, x->s4, nb, 7);
    for (int r0 = 0; r0 < rows; r0 += ROWS_CHUNK) {
        int r1 = rows - r0 < ROWS_CHUNK ? rows : r0 + ROWS_CHUNK;
        rows_scales(ds, nbp, w + (size_t)r0 * rb, rb, r1 - r0, nb, 34, x->d, dh ? dh + (size_t)r0 * nb : 0);
        for (r = r0; r + 4 <= r1; r += 4) q8_0_rows_n(out, r, w + (size_t)r * rb, rb, 4, x, nb, init, ds + (r - r0) * nbp, nbp);
        for (; r < r1; r++) q8_0_rows_n(out, r, w + (size_t)r * rb, rb, 1, x, nb, init, ds + (r - r0) * nbp, nbp);
    }
}

/* The block's 16 bytes in both halves, then bytes 0-15 = elements 0-15 (low nibbles) and
 * bytes 16-31 = elements 16-31 (high nibbles): with GFNI one affine byte transform (the
 * matrix per 64-bit lane: "keep bits 0-3" in the lower half, "bits 4-7 down to 0-3" in
 * the upper), else a per-half 16-bit shift and a mask. */
#define Q4_BYTES(i, b) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(wr + (i) * rb + (size_t)(b) * 18 + 2)))
#define Q4_NIB_SHIFT(v) _mm256_and_si256(_mm256_srlv_epi16(v, _mm256_set_epi64x(0x0004000400040004, 0x0004000400040004, 0, 0)), _mm256_set1_epi8(15))
#define Q4_NIB_GFNI(v) _mm256_gf2p8affine_epi64_epi8(v, _mm256_set_epi64x(0x1020408000000000, 0x1020408000000000, 0x0102040800000000, 0x0102040800000000), 0)
#define Q4_S(i, b) _mm256_dpbusd_epi32(iv, NIB(Q4_BYTES(i, b)), xv)
#define Q4_STEP(acc, b)                                                                                                   \
    do {                                                                                                                \
        __m256i xv = _mm256_loadu_si256((const __m256i *)(x->q + (b) * QK));                                            \
        __m256i iv = _mm256_loadu_si256((const __m256i *)(init + (b) * 8));                                              \
        ROWS_PF(18, b);                                                                                               \
        ROWS_ADD(acc, 0, Q4_S(0, b), b);                                                                                \
        if (nr == 4) { ROWS_ADD(acc, 1, Q4_S(1, b), b); ROWS_ADD(acc, 2, Q4_S(2, b), b); ROWS_ADD(acc, 3, Q4_S(3, b), b); } \
    } while (0)

#define Q4_ROWS_FUNCS(rows_n, rows, TARGET)                                                                              \
    static inline __attribute__((always_inline)) TARGET void rows_n(float *out, int r, const uint8_t *wr, size_t rb, int nr, \
                                                                    const q8_act *x, int nb, const int32_t *init, float *ds, int nbp) { \
        ROWS_ACC(0); ROWS_ACC(1); ROWS_ACC(2); ROWS_ACC(3);                                                             \
        int b = 0;                                                                                                      \
        for (; b + 2 <= nb; b += 2) { Q4_STEP(e, b); Q4_STEP(o, b + 1); }                                               \
        if (b < nb) Q4_STEP(e, b);                                                                                      \
        ROWS_OUT(0);                                                                                                    \
        if (nr == 4) { ROWS_OUT(1); ROWS_OUT(2); ROWS_OUT(3); }                                                         \
    }                                                                                                                   \
    static TARGET void rows(float *out, const uint8_t *w, size_t rb, int nrows, const q8_act *x, int n, const uint16_t *dh) { \
        int nb = n / QK, nbp = (nb + 15) & ~15, r = 0;                                                                  \
        int32_t init[8 * ROWS_MAXB];                                                                                    \
        float ds[ROWS_CHUNK * ROWS_MAXB];                                                                               \
        rows_init(init, x->s4, nb, 3);                                                                                  \
        for (int r0 = 0; r0 < nrows; r0 += ROWS_CHUNK) {                                                                \
            int r1 = nrows - r0 < ROWS_CHUNK ? nrows : r0 + ROWS_CHUNK;                                                 \
            rows_scales(ds, nbp, w + (size_t)r0 * rb, rb, r1 - r0, nb, 18, x->d, dh ? dh + (size_t)r0 * nb : 0);       \
            for (r = r0; r + 4 <= r1; r += 4) rows_n(out, r, w + (size_t)r * rb, rb, 4, x, nb, init, ds + (r - r0) * nbp, nbp); \
            for (; r < r1; r++) rows_n(out, r, w + (size_t)r * rb, rb, 1, x, nb, init, ds + (r - r0) * nbp, nbp);     \
        }                                                                                                               \
    }

#define NIB Q4_NIB_SHIFT
Q4_ROWS_FUNCS(q4_0_rows_n_shift, q4_0_rows_shift, AVX512)
#undef NIB
#define AVX512_GFNI __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni,gfni")))
#define NIB Q4_NIB_GFNI
Q4_ROWS_FUNCS(q4_0_rows_n_gfni, q4_0_rows_gfni, AVX512_GFNI)
#undef NIB

static int has_gfni = -1;
static AVX512 void q4_0_rows_avx512(float *out, const uint8_t *w, size_t rb, int rows, const q8_act *x, int n,
                                   const uint16_t *dh) {
    if (n / QK > ROWS_MAXB) {
        for (int r = 0; r < rows; r++) out[r] = q4_0_avx512(w + (size_t)r * rb, x, n);
        return;
    }
    if (has_gfni < 0) {
        __builtin_cpu_init();
        has_gfni = __builtin_cpu_supports("gfni");
    }
    if (has_gfni) q4_0_rows_gfni(out, w, rb, rows, x, n, dh);
    else q4_0_rows_shift(out, w, rb, rows, x, n, dh);
}

static const dot_impl avx512 = {"avx512vnni", f32_avx512, q8_0_avx512, q4_0_avx512,
                                0, q8_0_rows_avx512, q4_0_rows_avx512};

static int has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}
static int has_avx512(void) {
    __builtin_cpu_init();
    return has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}
#endif

/* ---- selection ---- */

int dot_impls(const dot_impl **out, int max) {
    const dot_impl *all[4];
    int n = 0;
    all[n++] = &portable;
#ifdef DOT_SSE2
    all[n++] = &sse2;
#endif
#ifdef DOT_NEON
    all[n++] = &neon;
#endif
#ifdef DOT_AVX
    if (has_avx2()) all[n++] = &avx2;
    if (has_avx512()) all[n++] = &avx512;
#endif
    int k = 0;
    for (; k < n && k < max; k++) out[k] = all[k];
    return k;
}

static const dot_impl *best;
static int portable_only;

void dot_use_portable(void) {
    portable_only = 1;
    best = &portable;
}

int dot_portable_only(void) { return portable_only; }

const dot_impl *dot_best(void) {
    if (!best) {
        const dot_impl *all[4];
        best = all[dot_impls(all, 4) - 1];
    }
    return best;
}

/* ---- activation quantization ---- */

void quantize_q8_0_ref(const float *x, int n, int8_t *q, float *d, int32_t *s4);

/* Round half to even for |x| < 2^23: adding and subtracting 2^23 rounds in the default
 * (nearest-even) mode; IEEE rules forbid the compiler to fold it without -ffast-math. */
static inline float round_even(float x) {
    float big = x >= 0 ? 8388608.0f : -8388608.0f;
    return (x + big) - big;
}

#ifdef DOT_AVX
/* The same quantization in AVX-512: |x| with NaN lanes as 0 (the scalar max skips NaN),
 * the max is exact in any order, x * id rounded half to even by vcvtps2dq (the default
 * rounding mode, the same integer as round_even for |x * id| <= 127), truncated to bytes
 * like the (int8_t) cast, and the sums of 4 by vpdpbusd with 1s. */
static AVX512 void quantize_q8_0_avx512(const float *x, int n, int8_t *q, float *d, int32_t *s4) {
    const __m512i absm = _mm512_set1_epi32(0x7fffffff);
    const __m256i ones = _mm256_set1_epi8(1);
    for (int b = 0; b < n / QK; b++) {
        __m512 x0 = _mm512_loadu_ps(x + b * QK), x1 = _mm512_loadu_ps(x + b * QK + 16);
        __m512 a0 = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x0, x0, _CMP_ORD_Q), _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x0), absm)));
        __m512 a1 = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x1, x1, _CMP_ORD_Q), _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x1), absm)));
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(a0, a1));
        float id = amax != 0.0f ? 127.f / amax : 0.0f;
        d[b] = round_fp16(amax / 127.f);
        __m512 idv = _mm512_set1_ps(id);
        __m128i q0 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(x0, idv)));
        __m128i q1 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(x1, idv)));
        __m256i qv = _mm256_set_m128i(q1, q0);
        _mm256_storeu_si256((__m256i *)(q + b * QK), qv);
        _mm256_storeu_si256((__m256i *)(s4 + b * 8), _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, qv));
    }
}
static int use_avx512 = -1;
#endif

void quantize_q8_0(const float *x, int n, int8_t *q, float *d, int32_t *s4) {
#ifdef DOT_AVX
    if (use_avx512 < 0) use_avx512 = has_avx512() && !portable_only;
    if (use_avx512) {
        quantize_q8_0_avx512(x, n, q, d, s4);
        return;
    }
#endif
    quantize_q8_0_ref(x, n, q, d, s4);
}

/* The reference (every kernel): ggml's quantize_row_q8_0. */
void quantize_q8_0_ref(const float *x, int n, int8_t *q, float *d, int32_t *s4) {
    for (int b = 0; b < n / QK; b++) {
        const float *xb = x + b * QK;
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) {
            float a = xb[j] < 0 ? -xb[j] : xb[j];
            if (a > amax) amax = a;
        }
        float id = amax != 0.0f ? 127.f / amax : 0.0f;
        d[b] = round_fp16(amax / 127.f);
        for (int j = 0; j < QK; j++) q[b * QK + j] = (int8_t)round_even(xb[j] * id); /* |x * id| <= 127 */
    }
    for (int k = 0; k < n / 4; k++) s4[k] = q[4 * k] + q[4 * k + 1] + q[4 * k + 2] + q[4 * k + 3];
}

/* ---- self-check ---- */

#define CHECK_MAX 512

static uint32_t rng_next(uint32_t *s) { /* xorshift32 */
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static int same_bits(float a, float b) {
    f32bits x = {.f = a}, y = {.f = b};
    return x.u == y.u;
}

/* The rows functions on 5 rows (4 + a remainder) sharing the test vectors with a row
 * stride that makes every row different data: they must equal the reference per row. */
static int check_rows(const dot_impl *ref, const dot_impl *im, const float *wf, const float *xf, const uint8_t *w8,
                      const uint8_t *w4, const q8_act *act, int n) {
    float a[5], b[5];
    int nq = n - n % QK;
    if (nq < 5 * QK) return 0;
    /* row r starts r blocks in and spans n - 4 blocks; strides are whole blocks */
    int m = nq - 4 * QK;
    for (int r = 0; r < 5; r++) b[r] = ref->f32(wf + r * QK, xf, m);
    /* the scale table the rows functions may get: row r's blocks start r blocks in */
    uint16_t dh8[5 * CHECK_MAX / QK], dh4[5 * CHECK_MAX / QK];
    for (int r = 0; r < 5; r++)
        for (int b = 0; b < m / QK; b++) {
            dh8[r * (m / QK) + b] = rd16(w8 + 34 * (r + b));
            dh4[r * (m / QK) + b] = rd16(w4 + 18 * (r + b));
        }
    for (int tab = 0; tab < 2; tab++) {
        if (im->q8_0_rows) {
            im->q8_0_rows(a, w8, 34, 5, act, m, tab ? dh8 : 0);
            for (int r = 0; r < 5; r++)
                if (!same_bits(a[r], ref->q8_0(w8 + 34 * r, act, m))) return -1;
        }
        if (im->q4_0_rows) {
            im->q4_0_rows(a, w4, 18, 5, act, m, tab ? dh4 : 0);
            for (int r = 0; r < 5; r++)
                if (!same_bits(a[r], ref->q4_0(w4 + 18 * r, act, m))) return -1;
#ifdef DOT_AVX
            if (im == &avx512) { /* the nibble extraction without GFNI too, whatever this CPU picks */
                q4_0_rows_shift(a, w4, 18, 5, act, m, tab ? dh4 : 0);
                for (int r = 0; r < 5; r++)
                    if (!same_bits(a[r], ref->q4_0(w4 + 18 * r, act, m))) return -1;
            }
#endif
        }
    }
    if (im->f32_rows) {
        im->f32_rows(a, (const uint8_t *)wf, 4 * QK, 5, xf, m);
        for (int r = 0; r < 5; r++)
            if (!same_bits(a[r], b[r])) return -1;
    }
    return 0;
}

long dot_selfcheck(const char **bad_name) {
    static float wf[CHECK_MAX], xf[CHECK_MAX], xd[CHECK_MAX / QK];
    static uint8_t w8[CHECK_MAX / QK * 34], w4[CHECK_MAX / QK * 18];
    static int8_t xq[CHECK_MAX];
    static int32_t s4[CHECK_MAX / 4];
    static const int sizes[] = {32, 64, 96, 352, 384, 512, 40}; /* odd block counts; an F32 tail */
    const dot_impl *impl[4];
    int ni = dot_impls(impl, 4);
    uint32_t seed = 0x9e3779b9u;
    long compared = 0;
    for (int round = 0; round < 64; round++) {
        int n = sizes[round % 7];
        for (int i = 0; i < n; i++) {
            /* values over several binades, some exact zeros and negative zeros */
            uint32_t r = rng_next(&seed);
            float v = (float)(int32_t)(r >> 8 & 0xffff) / 4096.0f - 8.0f;
            wf[i] = r % 29 == 0 ? -0.0f : v * (float)(1 + (r >> 28));
            xf[i] = (float)(int32_t)(rng_next(&seed) >> 8 & 0xffff) / 8192.0f - 4.0f;
        }
        for (int b = 0; b < n / QK; b++) {
            uint32_t r = rng_next(&seed);
            /* scales: normal, subnormal (exponent 0), zero */
            uint16_t dh = r % 11 == 0 ? (uint16_t)((r >> 16 & 0x3ff) | (r & 0x8000)) : r % 13 == 0 ? 0 : (uint16_t)(0x1000 + (r >> 16) % 0x3800);
            w8[34 * b] = (uint8_t)dh, w8[34 * b + 1] = (uint8_t)(dh >> 8);
            w4[18 * b] = (uint8_t)dh, w4[18 * b + 1] = (uint8_t)(dh >> 8);
            for (int j = 0; j < QK; j++) {
                uint32_t t = rng_next(&seed);
                w8[34 * b + 2 + j] = (uint8_t)(round % 5 == 0 && j % 3 == 0 ? 0x80 : t); /* -128 too */
                if (j < 16) w4[18 * b + 2 + j] = (uint8_t)(t >> 8);
            }
        }
        quantize_q8_0(xf, n - n % QK, xq, xd, s4);
        {   /* the quantization this CPU uses against the reference */
            static int8_t rq[CHECK_MAX];
            static float rd[CHECK_MAX / QK];
            static int32_t rs[CHECK_MAX / 4];
            int nq = n - n % QK;
            if (round % 3 == 0) xf[round % nq] = round % 2 ? -0.0f : 1e-30f; /* odd values in the max */
            quantize_q8_0(xf, nq, xq, xd, s4);
            quantize_q8_0_ref(xf, nq, rq, rd, rs);
            for (int i = 0; i < nq; i++)
                if (xq[i] != rq[i] || (i % 4 == 0 && s4[i / 4] != rs[i / 4]) || (i % QK == 0 && !same_bits(xd[i / QK], rd[i / QK]))) {
                    *bad_name = "quantize_q8_0";
                    return -1;
                }
            compared++;
        }
        q8_act act = {xq, xd, s4};
        float ref[3] = {impl[0]->f32(wf, xf, n), impl[0]->q8_0(w8, &act, n - n % QK), impl[0]->q4_0(w4, &act, n - n % QK)};
        for (int k = 1; k < ni; k++) {
            float got[3] = {impl[k]->f32(wf, xf, n), impl[k]->q8_0(w8, &act, n - n % QK), impl[k]->q4_0(w4, &act, n - n % QK)};
            for (int t = 0; t < 3; t++, compared++)
                if (!same_bits(ref[t], got[t])) {
                    *bad_name = impl[k]->name;
                    return -1 - k;
                }
            if ((impl[k]->f32_rows || impl[k]->q8_0_rows || impl[k]->q4_0_rows) && check_rows(impl[0], impl[k], wf, xf, w8, w4, &act, n) != 0) {
                *bad_name = impl[k]->name;
                return -1 - k;
            }
        }
    }
    return compared;
}
