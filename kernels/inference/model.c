/* model.c — llama forward pass for F32/F16/Q8_0/Q4_0 weights (see model.h; loading is in model_load.c). */
#include "model.h"
#include "slm_math.h"
#include "klib.h"
#include "fp16.h"
#include "dot.h"

#ifdef _OPENMP /* host builds only; the kernels are single-threaded */
#define PARALLEL_ROWS(rows, cols) _Pragma("omp parallel for schedule(static) if((long)(rows) * (cols) >= 65536)")
#else
#define PARALLEL_ROWS(rows, cols)
#endif

/* ---- vector kernels ---- */

/* RMSNorm as ggml computes it: sum of squares in double, scale in float. */
static void rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    float scale = 1.0f / slm_sqrtf((float)(sum / n + eps));
    for (int i = 0; i < n; i++) out[i] = (x[i] * scale) * w[i];
}

static float dot_f16(const uint8_t *w, const float *x, int n) {
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += h2f(rd16(w + 2 * (i + k))) * x[i + k];
    float sum = 0.0f;
    for (; i < n; i++) sum += h2f(rd16(w + 2 * i)) * x[i];
    return sum + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* out[rows] = W[rows, cols] x[cols]. Quantized weights see x quantized to Q8_0,
 * F16 weights see x rounded to fp16 (ggml's vec_dot_type for each). */
static void matvec(slm_state *s, float *out, const slm_mat *W, const float *x) {
    int rows = W->rows, cols = W->cols;
    const uint8_t *data = W->data;
    size_t rb = W->row_bytes;
    const dot_impl *dot = dot_best();
    if (W->type == GGML_F32 && dot->f32_rows) {
        dot->f32_rows(out, data, rb, rows, x, cols);
    } else if (W->type == GGML_F32) {
        PARALLEL_ROWS(rows, cols)
        for (int r = 0; r < rows; r++) out[r] = dot->f32((const float *)(data + r * rb), x, cols);
    } else if (W->type == GGML_F16) {
        float *xh = s->xh;
        for (int i = 0; i < cols; i++) xh[i] = round_fp16(x[i]);
        PARALLEL_ROWS(rows, cols)
        for (int r = 0; r < rows; r++) out[r] = dot_f16(data + r * rb, xh, cols);
    } else {
        /* s->aq holds the values (cols bytes), then the sums of 4 (cols bytes) */
        int32_t *s4 = (int32_t *)(s->aq + cols);
        quantize_q8_0(x, cols, s->aq, s->ad, s4);
        q8_act act = {s->aq, s->ad, s4};
        float (*fn)(const uint8_t *, const q8_act *, int) = W->type == GGML_Q8_0 ? dot->q8_0 : dot->q4_0;
        void (*rows_fn)(float *, const uint8_t *, size_t, int, const q8_act *, int, const uint16_t *) =
            W->type == GGML_Q8_0 ? dot->q8_0_rows : dot->q4_0_rows;
        if (rows_fn) {
            rows_fn(out, data, rb, rows, &act, cols, W->dh);
        } else {
            PARALLEL_ROWS(rows, cols)
            for (int r = 0; r < rows; r++) out[r] = fn(data + r * rb, &act, cols);
        }
    }
}

/* One row of the embedding table, dequantized. */
static void embed_row(float *out, const slm_mat *E, int row) {
    const uint8_t *p = E->data + (size_t)row * E->row_bytes;
    for (int b = 0; b < E->cols / (E->type == GGML_F32 || E->type == GGML_F16 ? 1 : QK); b++) {
        switch (E->type) {
        case GGML_F32: out[b] = ((const float *)p)[b]; break;
        case GGML_F16: out[b] = h2f(rd16(p + 2 * b)); break;
        case GGML_Q8_0: {
            const uint8_t *blk = p + 34 * b;
            float d = h2f(rd16(blk));
            for (int j = 0; j < QK; j++) out[b * QK + j] = d * (float)((const int8_t *)(blk + 2))[j];
            break;
        }
        default: { /* Q4_0 */
            const uint8_t *blk = p + 18 * b;
            float d = h2f(rd16(blk));
            for (int j = 0; j < QK / 2; j++) {
                out[b * QK + j] = (float)((blk[2 + j] & 0x0f) - 8) * d;
                out[b * QK + j + QK / 2] = (float)((blk[2 + j] >> 4) - 8) * d;
            }
        }
        }
    }
}

/* ggml rope, "norm" mode: pair (x[2i], x[2i+1]) turns by pos * theta^(-2i/rope_dim);
 * the angle is built by repeated float multiplication exactly as ggml does. */
static void rope_angles(float *cs, int pos, int rope_dim, float theta_base) {
    float theta_scale = slm_powf(theta_base, -2.0f / (float)rope_dim);
    float theta = (float)pos;
    for (int i = 0; i < rope_dim; i += 2) {
        cs[i] = slm_cosf(theta);
        cs[i + 1] = slm_sinf(theta);
        theta *= theta_scale;
    }
}

static void rope_apply(float *x, int n_heads, int head_dim, int rope_dim, const float *cs) {
    for (int h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        for (int i = 0; i < rope_dim; i += 2) {
            float x0 = v[i], x1 = v[i + 1];
            v[i] = x0 * cs[i] - x1 * cs[i + 1];
            v[i + 1] = x0 * cs[i + 1] + x1 * cs[i];
        }
    }
}

/* Attention's elementwise work in 16-lane GNU C vectors: SSE2 / NEON registers in the
 * kernels, AVX-512 or AVX2 on a hosted x86_64 (a clone per ISA, picked at load time),
 * scalar code on riscv64. Every operation is lane-wise, so each lowering computes the
 * same floats as the scalar definitions (h2f, round_fp16) element by element. Vectors
 * only pass by pointer: a vector argument's ABI would depend on -mavx. */
#if __STDC_HOSTED__ && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ATTN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ATTN_CLONES
#endif
#define VL 16
typedef float vf __attribute__((vector_size(4 * VL)));
typedef uint32_t vu __attribute__((vector_size(4 * VL)));
typedef uint16_t vh __attribute__((vector_size(2 * VL)));

static inline __attribute__((always_inline)) void h2f_v(vf *out, const uint16_t *p) {
    vh h;
    memcpy(&h, p, sizeof h);
    vu u = __builtin_convertvector(h, vu);
    vf f = (vf)((u & 0x7fff) << 13) * 0x1p112f;
    *out = (vf)((vu)f | ((vu)(f >= 65536.0f) & (255u << 23)) | (u & 0x8000) << 16);
}

/* *acc = round_fp16(*y) lane by lane: the fast rounding, the exact path for lanes
 * outside fp16's normal range. */
static inline __attribute__((always_inline)) void round_fp16_v(vf *acc, const vf *y) {
    vu b = (vu)*y, a = b & 0x7fffffff;
    vu ok = (vu)(a == 0) | (vu)((a - 0x38800000u) < (0x477ff000u - 0x38800000u));
    vf r = (vf)((b + 0xfff + ((b >> 13) & 1)) & ~0x1fffu);
    vu bad = ~ok;
    uint64_t w[VL / 2];
    memcpy(w, &bad, sizeof w);
    uint64_t any = 0;
    for (int i = 0; i < VL / 2; i++) any |= w[i];
    if (any)
        for (int i = 0; i < VL; i++)
            if (bad[i]) r[i] = round_fp16((*y)[i]);
    *acc = r;
}

/* Attention for one query head over cached positions 0..pos, following
 * llama.cpp's CPU flash-attention kernel: q rounded to fp16, scores from fp16
 * K, online softmax, V accumulated in an fp16 vector. */
ATTN_CLONES
static void attend(float *out, const float *q, const uint16_t *kc, const uint16_t *vc, int kv_stride, int pos,
                   int head_dim, float *acc) {
    float qh[512];
    float scale = 1.0f / slm_sqrtf((float)head_dim);
    int nv = head_dim / VL * VL; /* lanes in vectors; the rest one by one, same arithmetic */
    for (int d = 0; d < head_dim; d++) { qh[d] = round_fp16(q[d]); acc[d] = 0.0f; }
    float M = -SLM_INFINITY, S = 0.0f;
    for (int t = 0; t <= pos; t++) {
        const uint16_t *k = kc + (size_t)t * kv_stride, *v = vc + (size_t)t * kv_stride;
        vf part = {0}, kv, qv, av, y;
        float dot = 0.0f;
        int d = 0;
        for (; d < nv; d += VL) { /* 16 partial sums: part[j] += k[d+j] q[d+j] */
            h2f_v(&kv, k + d);
            memcpy(&qv, qh + d, sizeof qv);
            part += kv * qv;
        }
        for (; d < head_dim; d++) dot += h2f(k[d]) * qh[d];
        for (int j = 0; j < VL; j++) dot += part[j];
        float sc = dot * scale;
        float ms = 1.0f, vs = 1.0f;
        if (sc > M) { /* new maximum: rescale what was accumulated so far */
            float m_old = M;
            M = sc;
            ms = slm_expf(m_old - M);
            for (d = 0; d < nv; d += VL) {
                memcpy(&av, acc + d, sizeof av);
                y = av * ms;
                round_fp16_v(&av, &y);
                memcpy(acc + d, &av, sizeof av);
            }
            for (; d < head_dim; d++) acc[d] = round_fp16(acc[d] * ms);
        } else {
            vs = slm_expf(sc - M);
        }
        for (d = 0; d < nv; d += VL) {
            memcpy(&av, acc + d, sizeof av);
            h2f_v(&kv, v + d);
            y = av + kv * vs;
            round_fp16_v(&av, &y);
            memcpy(acc + d, &av, sizeof av);
        }
        for (; d < head_dim; d++) acc[d] = round_fp16(acc[d] + h2f(v[d]) * vs);
        S = S * ms + vs;
    }
    float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int d = 0; d < head_dim; d++) out[d] = acc[d] * inv;
}

/* ---- hosted x86_64 with AVX-512 (slm-run): the same floats, faster ----
 * Chosen at run time; the kernels never compile this. slm-run --selfcheck compares each
 * function here with the portable definition above on seeded data.
 *   expf_v: slm_expf's steps (double reduction, degree-9 Horner, the 2^k scale, one
 *     rounding to float) in 8 double lanes: every operation is lane-wise IEEE, so each
 *     lane is slm_expf's value bit for bit.
 *   attend_fast: attend() reordered without changing any lane's arithmetic: the scores
 *     of all positions first (a position's 16 partial sums, then the lanes added in
 *     order), then the running maximum and the exps (vectorized: their arguments do not
 *     depend on the accumulator), then each 16-dim chunk of the fp16 accumulator over
 *     all positions in a register (each dimension sees the same sequence of operations
 *     as in attend). fp16 <-> fp32 by F16C, which rounds exactly as round_fp16 and
 *     converts exactly as h2f, except for NaN payloads: a head whose output has a NaN is
 *     recomputed by attend() (a NaN anywhere in the inputs reaches the output). */
#if __STDC_HOSTED__ && defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FAST __attribute__((target("avx2,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
static int fast_ok(void) {
    static int ok = -1;
    if (ok < 0) {
        __builtin_cpu_init();
        ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("f16c");
    }
    return ok && !dot_portable_only();
}

static inline FAST __m256 expf8(__m256 xf) {
    const __m512d half = _mm512_set1_pd(0.5);
    __m512d x = _mm512_cvtps_pd(xf);
    __m512d t = _mm512_mul_pd(x, _mm512_set1_pd(1.44269504088896338700e+00));
    __mmask8 ge = _mm512_cmp_pd_mask(t, _mm512_setzero_pd(), _CMP_GE_OQ);
    __m512d u = _mm512_mask_blend_pd(ge, _mm512_sub_pd(t, half), _mm512_add_pd(t, half));
    __m512i ki = _mm512_cvttpd_epi64(u);
    __m512d k = _mm512_cvtepi64_pd(ki);
    __m512d r = _mm512_sub_pd(_mm512_sub_pd(x, _mm512_mul_pd(k, _mm512_set1_pd(6.93147180369123816490e-01))),
                              _mm512_mul_pd(k, _mm512_set1_pd(1.90821492927058770002e-10)));
    static const double c[] = {1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
    __m512d p = _mm512_set1_pd(1.0 / 362880.0);
    for (int i = 0; i < 9; i++) p = _mm512_add_pd(_mm512_mul_pd(p, r), _mm512_set1_pd(c[i]));
    __m512d sc = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(ki, _mm512_set1_epi64(1023)), 52));
    __m256 y = _mm512_cvtpd_ps(_mm512_mul_pd(p, sc));
    y = _mm256_mask_blend_ps(_mm256_cmp_ps_mask(xf, _mm256_set1_ps(88.8f), _CMP_GT_OQ), y, _mm256_set1_ps(SLM_INFINITY));
    y = _mm256_mask_blend_ps(_mm256_cmp_ps_mask(xf, _mm256_set1_ps(-104.0f), _CMP_LT_OQ), y, _mm256_setzero_ps());
    return _mm256_mask_blend_ps(_mm256_cmp_ps_mask(xf, xf, _CMP_UNORD_Q), y, xf);
}

/* out[i] = slm_expf(x[i]) */
static FAST void expf_v(float *out, const float *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, expf8(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) out[i] = slm_expf(x[i]);
}

/* hb[i] = hb[i] / (1 + expf(-hb[i])) * hb2[i] */
static FAST void swiglu_fast(float *hb, const float *hb2, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(hb + i);
        __m256 e = expf8(_mm256_sub_ps(_mm256_setzero_ps(), g));
        _mm256_storeu_ps(hb + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), _mm256_loadu_ps(hb2 + i)));
    }
    for (; i < n; i++) hb[i] = hb[i] / (1.0f + slm_expf(-hb[i])) * hb2[i];
}

static inline FAST __m512 r16(__m512 y) { return _mm512_cvtph_ps(_mm512_cvtps_ph(y, _MM_FROUND_TO_NEAREST_INT)); }

enum { FAST_MAX_T = 4096 };
/* attend() for head_dim a multiple of 16 and at most 512, pos < FAST_MAX_T. */
static FAST void attend_fast(float *out, const float *q, const uint16_t *kc, const uint16_t *vc, int kv_stride, int pos,
                             int head_dim, float *acc) {
    float qh[512], sc[FAST_MAX_T], ex[FAST_MAX_T], ms[FAST_MAX_T], vs[FAST_MAX_T];
    uint8_t newmax[FAST_MAX_T];
    float scale = 1.0f / slm_sqrtf((float)head_dim);
    int nc = head_dim / 16, T = pos + 1;
    for (int d = 0; d < head_dim; d++) qh[d] = round_fp16(q[d]);
    for (int t = 0; t < T; t++) {
        const uint16_t *k = kc + (size_t)t * kv_stride;
        __m512 part = _mm512_setzero_ps();
        for (int c = 0; c < nc; c++)
            part = _mm512_add_ps(part, _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(k + 16 * c))), _mm512_loadu_ps(qh + 16 * c)));
        float pl[16], dot = 0.0f;
        _mm512_storeu_ps(pl, part);
        for (int j = 0; j < 16; j++) dot += pl[j];
        sc[t] = dot * scale;
    }
    float M = -SLM_INFINITY, S = 0.0f;
    ex[0] = 0.0f; /* (T >= 1; quiets -Wmaybe-uninitialized) */
    for (int t = 0; t < T; t++) { /* the exps' arguments, as attend() forms them */
        newmax[t] = sc[t] > M;
        if (newmax[t]) { ex[t] = M - sc[t]; M = sc[t]; }
        else ex[t] = sc[t] - M;
    }
    expf_v(ex, ex, T);
    for (int t = 0; t < T; t++) {
        ms[t] = newmax[t] ? ex[t] : 1.0f;
        vs[t] = newmax[t] ? 1.0f : ex[t];
        S = S * ms[t] + vs[t];
    }
    float inv = S == 0.0f ? 0.0f : 1.0f / S;
    __m512 iv = _mm512_set1_ps(inv);
    int c = 0;
    for (; c + 4 <= nc; c += 4) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const uint16_t *v = vc + 16 * c;
        for (int t = 0; t < T; t++, v += kv_stride) {
            if (newmax[t]) {
                __m512 m = _mm512_set1_ps(ms[t]);
                a0 = r16(_mm512_mul_ps(a0, m)), a1 = r16(_mm512_mul_ps(a1, m));
                a2 = r16(_mm512_mul_ps(a2, m)), a3 = r16(_mm512_mul_ps(a3, m));
            }
            __m512 w = _mm512_set1_ps(vs[t]);
            a0 = r16(_mm512_add_ps(a0, _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)v)), w)));
            a1 = r16(_mm512_add_ps(a1, _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(v + 16))), w)));
            a2 = r16(_mm512_add_ps(a2, _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(v + 32))), w)));
            a3 = r16(_mm512_add_ps(a3, _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(v + 48))), w)));
        }
        _mm512_storeu_ps(out + 16 * c, _mm512_mul_ps(a0, iv));
        _mm512_storeu_ps(out + 16 * c + 16, _mm512_mul_ps(a1, iv));
        _mm512_storeu_ps(out + 16 * c + 32, _mm512_mul_ps(a2, iv));
        _mm512_storeu_ps(out + 16 * c + 48, _mm512_mul_ps(a3, iv));
    }
    for (; c < nc; c++) {
        __m512 a0 = _mm512_setzero_ps();
        const uint16_t *v = vc + 16 * c;
        for (int t = 0; t < T; t++, v += kv_stride) {
            if (newmax[t]) a0 = r16(_mm512_mul_ps(a0, _mm512_set1_ps(ms[t])));
            a0 = r16(_mm512_add_ps(a0, _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)v)), _mm512_set1_ps(vs[t]))));
        }
        _mm512_storeu_ps(out + 16 * c, _mm512_mul_ps(a0, iv));
    }
    __mmask16 nan = 0;
    for (c = 0; c < nc; c++) {
        __m512 o = _mm512_loadu_ps(out + 16 * c);
        nan |= _mm512_cmp_ps_mask(o, o, _CMP_UNORD_Q);
    }
    if (nan) attend(out, q, kc, vc, kv_stride, pos, head_dim, acc);
}

static void attend_any(float *out, const float *q, const uint16_t *kc, const uint16_t *vc, int kv_stride, int pos,
                       int head_dim, float *acc) {
    if (fast_ok() && head_dim % 16 == 0 && pos < FAST_MAX_T) attend_fast(out, q, kc, vc, kv_stride, pos, head_dim, acc);
    else attend(out, q, kc, vc, kv_stride, pos, head_dim, acc);
}

static void swiglu(float *hb, const float *hb2, int n) {
    if (fast_ok()) {
        swiglu_fast(hb, hb2, n);
        return;
    }
    for (int i = 0; i < n; i++) hb[i] = hb[i] / (1.0f + slm_expf(-hb[i])) * hb2[i];
}

static uint32_t ck_rng(uint32_t *s) { *s ^= *s << 13; *s ^= *s >> 17; *s ^= *s << 5; return *s; }
static int ck_same(float a, float b) { f32bits x = {.f = a}, y = {.f = b}; return x.u == y.u; }

long model_selfcheck(const char **bad_name) {
    if (!fast_ok()) return 0;
    static float xs[4096], a[4096], b[4096], q[128], acc[128], o1[128], o2[128];
    static uint16_t kc[300 * 256], vc[300 * 256];
    uint32_t seed = 12345;
    long compared = 0;
    /* expf over a spread of arguments, the edges included */
    for (int i = 0; i < 4096; i++) {
        f32bits r = {.u = ck_rng(&seed)};
        xs[i] = i < 16 ? (float[]){88.8f, 88.7f, -104.0f, -103.9f, -87.5f, 0.0f, -0.0f, 1e-30f, -1e-30f, SLM_INFINITY,
                                   -SLM_INFINITY, 0.5f, -0.5f, 89.0f, -105.0f, 1.0f}[i]
                 : (float)((int32_t)r.u >> 8) * (i % 2 ? 1e-5f : 1.3e-7f);
    }
    expf_v(a, xs, 4096);
    for (int i = 0; i < 4096; i++, compared++)
        if (!ck_same(a[i], slm_expf(xs[i]))) { *bad_name = "expf (avx512)"; return -1; }
    for (int i = 0; i < 4096; i++) { a[i] = b[i] = xs[i] * 0.01f; xs[i] = (float)(ck_rng(&seed) >> 9) / 4194304.0f - 1.0f; }
    swiglu_fast(a, xs, 4096);
    for (int i = 0; i < 4096; i++, compared++)
        if (!ck_same(a[i], b[i] / (1.0f + slm_expf(-b[i])) * xs[i])) { *bad_name = "swiglu (avx512)"; return -1; }
    /* attention: head sizes 16..128, up to 300 positions, K/V of varied magnitude */
    static const int hds[] = {16, 32, 48, 64, 128, 80};
    for (int round = 0; round < 24; round++) {
        int hd = hds[round % 6], stride = 2 * hd, pos = (int)(ck_rng(&seed) % 300);
        float mag = (float)(1 + round % 5) * 0.7f;
        for (int i = 0; i < 300 * stride; i++) {
            kc[i] = slm_fp32_to_fp16(((float)(ck_rng(&seed) >> 9) / 4194304.0f - 1.0f) * mag);
            vc[i] = slm_fp32_to_fp16(((float)(ck_rng(&seed) >> 9) / 4194304.0f - 1.0f) * mag * 3.0f);
        }
        for (int d = 0; d < hd; d++) q[d] = ((float)(ck_rng(&seed) >> 9) / 4194304.0f - 1.0f) * mag * 2.0f;
        attend(o1, q, kc + hd, vc + hd, stride, pos, hd, acc);
        attend_fast(o2, q, kc + hd, vc + hd, stride, pos, hd, acc);
        for (int d = 0; d < hd; d++, compared++)
            if (!ck_same(o1[d], o2[d])) { *bad_name = "attention (avx512)"; return -1; }
    }
    return compared;
}
#else
#define attend_any attend
static void swiglu(float *hb, const float *hb2, int n) {
    for (int i = 0; i < n; i++) hb[i] = hb[i] / (1.0f + slm_expf(-hb[i])) * hb2[i];
}
long model_selfcheck(const char **bad_name) { (void)bad_name; return 0; }
#endif

#if __STDC_HOSTED__
/* ---- host-only F32 K/V (model_set_f32_kv; slm-run --f32-kv) ----
 * Portable C, no fast paths: speed does not matter here, only that the arithmetic is
 * plain float32 like an exact runtime's. Off (NULL) unless slm-run asks for it. */
static float *f32_k_cache, *f32_v_cache;

void model_set_f32_kv(float *k_cache, float *v_cache) {
    f32_k_cache = k_cache;
    f32_v_cache = v_cache;
}

static float dot_f32_plain(const float *a, const float *b, int n) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

/* softmax(q.K[0..pos] / sqrt(head_dim)) V[0..pos], two passes (the maximum, then the exps),
 * everything in F32. */
static void attend_f32(float *out, const float *q, const float *kc, const float *vc, int kv_stride, int pos,
                       int head_dim) {
    float scale = 1.0f / slm_sqrtf((float)head_dim);
    float M = -SLM_INFINITY, S = 0.0f;
    for (int t = 0; t <= pos; t++) {
        float sc = dot_f32_plain(q, kc + (size_t)t * kv_stride, head_dim) * scale;
        if (sc > M) M = sc;
    }
    for (int d = 0; d < head_dim; d++) out[d] = 0.0f;
    for (int t = 0; t <= pos; t++) {
        float w = slm_expf(dot_f32_plain(q, kc + (size_t)t * kv_stride, head_dim) * scale - M);
        const float *v = vc + (size_t)t * kv_stride;
        for (int d = 0; d < head_dim; d++) out[d] += w * v[d];
        S += w;
    }
    float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int d = 0; d < head_dim; d++) out[d] *= inv;
}
#endif

float *model_forward(const slm_model *m, slm_state *s, int token, int pos) {
    const slm_config *c = &m->c;
    int dim = c->dim, hd = c->head_dim, kv_dim = c->n_kv_heads * hd;
    int group = c->n_heads / c->n_kv_heads;

    embed_row(s->x, &m->tok_embd, token);
    rope_angles(s->rope_cs, pos, c->rope_dim, c->rope_theta);

    for (int l = 0; l < c->n_layers; l++) {
        const slm_layer *L = &m->layers[l];
        uint16_t *kc = s->k_cache + (size_t)l * c->ctx_len * kv_dim;
        uint16_t *vc = s->v_cache + (size_t)l * c->ctx_len * kv_dim;

        rmsnorm(s->xb, s->x, L->attn_norm, dim, c->eps);
        matvec(s, s->q, &L->wq, s->xb);
        matvec(s, s->k, &L->wk, s->xb);
        matvec(s, s->v, &L->wv, s->xb);
        rope_apply(s->q, c->n_heads, hd, c->rope_dim, s->rope_cs);
        rope_apply(s->k, c->n_kv_heads, hd, c->rope_dim, s->rope_cs);
#if __STDC_HOSTED__
        if (f32_k_cache) { /* slm-run --f32-kv */
            float *kf = f32_k_cache + (size_t)l * c->ctx_len * kv_dim, *vf = f32_v_cache + (size_t)l * c->ctx_len * kv_dim;
            for (int i = 0; i < kv_dim; i++) {
                kf[(size_t)pos * kv_dim + i] = s->k[i];
                vf[(size_t)pos * kv_dim + i] = s->v[i];
            }
            for (int h = 0; h < c->n_heads; h++) {
                int kvh = h / group;
                attend_f32(s->att + h * hd, s->q + h * hd, kf + kvh * hd, vf + kvh * hd, kv_dim, pos, hd);
            }
        } else
#endif
        {
            for (int i = 0; i < kv_dim; i++) {
                kc[(size_t)pos * kv_dim + i] = slm_fp32_to_fp16(s->k[i]);
                vc[(size_t)pos * kv_dim + i] = slm_fp32_to_fp16(s->v[i]);
            }
            for (int h = 0; h < c->n_heads; h++) {
                int kvh = h / group;
                attend_any(s->att + h * hd, s->q + h * hd, kc + kvh * hd, vc + kvh * hd, kv_dim, pos, hd, s->xb2);
            }
        }
        matvec(s, s->xb2, &L->wo, s->att);
        for (int i = 0; i < dim; i++) s->x[i] += s->xb2[i];

        rmsnorm(s->xb, s->x, L->ffn_norm, dim, c->eps);
        matvec(s, s->hb, &L->w_gate, s->xb);
        matvec(s, s->hb2, &L->w_up, s->xb);
        swiglu(s->hb, s->hb2, c->ffn_dim);
        matvec(s, s->xb2, &L->w_down, s->hb);
        for (int i = 0; i < dim; i++) s->x[i] += s->xb2[i];
    }
    rmsnorm(s->x, s->x, m->output_norm, dim, c->eps);
    matvec(s, s->logits, &m->output, s->x);
    return s->logits;
}
