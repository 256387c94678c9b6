/* slm_math.c — exp/log/sqrt/sin/cos/pow and fp16 without libm (see slm_math.h).
 *
 * Double versions use classic range reduction (fdlibm's split constants) and
 * short polynomials; accuracy is ~1 ulp of double, so rounding to float gives
 * the correctly rounded float in practice.
 */
#include "slm_math.h"

typedef union { double d; uint64_t u; } dbits;
typedef union { float f; uint32_t u; } fbits;

#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define INV_LN2 1.44269504088896338700e+00

static double nearest(double x) { /* |x| < 2^52 */
    return (double)(int64_t)(x >= 0 ? x + 0.5 : x - 0.5);
}

/* x * 2^k for k in about [-1100, 1100], handling subnormal results. */
static double scale2(double x, int k) {
    dbits b;
    while (k > 1000) { b.u = (uint64_t)(1023 + 1000) << 52; x *= b.d; k -= 1000; }
    while (k < -1000) { b.u = (uint64_t)(1023 - 1000) << 52; x *= b.d; k += 1000; }
    b.u = (uint64_t)(1023 + k) << 52;
    return x * b.d;
}

double slm_exp(double x) {
    if (x != x) return x;
    if (x > 709.782712893384) return SLM_INFINITY;
    if (x < -745.2) return 0.0;
    double k = nearest(x * INV_LN2);
    double r = (x - k * LN2_HI) - k * LN2_LO; /* |r| <= 0.35 */
    /* Taylor series to r^13: the next term is < 1e-17 relative. */
    double p = 1.0 / 6227020800.0;
    static const double inv_fact[] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                                      1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
                                      1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
    for (int i = 0; i < 13; i++) p = p * r + inv_fact[i];
    return scale2(p, (int)k);
}

double slm_log(double x) {
    if (x != x || x < 0) return 0.0 / 0.0;
    if (x == 0) return -SLM_INFINITY;
    if (x == SLM_INFINITY) return x;
    int e = 0;
    if (x < 0x1p-1000) { x *= 0x1p100; e = -100; }
    dbits b = {.d = x};
    e += (int)((b.u >> 52) & 0x7ff) - 1023;
    b.u = (b.u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL; /* m in [1, 2) */
    double m = b.d;
    if (m > 1.41421356237309504880) { m *= 0.5; e++; }
    /* log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172 */
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, sum = 0.0;
    for (int n = 21; n >= 3; n -= 2) sum = (sum + 1.0 / n) * s2;
    double logm = 2.0 * s + 2.0 * s * sum;
    return e * LN2_HI + (e * LN2_LO + logm);
}

double slm_sqrt(double x) {
    if (x != x || x < 0) return 0.0 / 0.0;
    if (x == 0 || x == SLM_INFINITY) return x;
    double post = 1.0;
    if (x < 0x1p-900) { x *= 0x1p200; post = 0x1p-100; }
    dbits b = {.d = x};
    b.u = (b.u >> 1) + (0x3ffULL << 51); /* halve the exponent: within ~6% */
    double y = b.d;
    for (int i = 0; i < 6; i++) y = 0.5 * (y + x / y);
    return y * post;
}

/* pi/2 split in three parts (fdlibm); n * PIO2_1 is exact for |n| < 2^20. */
#define PIO2_1 1.57079632673412561417e+00
#define PIO2_2 6.07710050630396597660e-11
#define PIO2_3 2.02226624871116645580e-21
#define INV_PIO2 6.36619772367581382433e-01

static double sin_poly(double r) { /* |r| <= pi/4 */
    double r2 = r * r, p = 0.0;
    for (int n = 17; n >= 3; n -= 2) p = (p + 1.0) * -r2 / ((double)n * (n - 1));
    return r + r * p;
}

static double cos_poly(double r) {
    double r2 = r * r, p = 0.0;
    for (int n = 18; n >= 2; n -= 2) p = (p + 1.0) * -r2 / ((double)n * (n - 1));
    return 1.0 + p;
}

/* Returns the quadrant n mod 4 and sets *r = x - n*pi/2. */
static int reduce_pio2(double x, double *r) {
    double n = nearest(x * INV_PIO2);
    *r = ((x - n * PIO2_1) - n * PIO2_2) - n * PIO2_3;
    return (int)((int64_t)n & 3);
}

double slm_sin(double x) {
    double r;
    switch (reduce_pio2(x, &r)) {
    case 0: return sin_poly(r);
    case 1: return cos_poly(r);
    case 2: return -sin_poly(r);
    default: return -cos_poly(r);
    }
}

double slm_cos(double x) {
    double r;
    switch (reduce_pio2(x, &r)) {
    case 0: return cos_poly(r);
    case 1: return -sin_poly(r);
    case 2: return -cos_poly(r);
    default: return sin_poly(r);
    }
}

/* expf: the same reduction, a degree-9 polynomial (relative error < 1e-11, far
 * below float's 6e-8) — the attention and SwiGLU call it thousands of times per token. */
float slm_expf(float x) {
    if (x != x) return x;
    if (x > 88.8f) return SLM_INFINITY;
    if (x < -104.0f) return 0.0f;
    double k = nearest(x * INV_LN2);
    double r = (x - k * LN2_HI) - k * LN2_LO;
    double p = 1.0 / 362880.0;
    static const double inv_fact[] = {1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0,
                                      1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
    for (int i = 0; i < 9; i++) p = p * r + inv_fact[i];
    dbits b = {.u = (uint64_t)(1023 + (int)k) << 52};
    return (float)(p * b.d);
}
float slm_logf(float x) { return (float)slm_log(x); }
float slm_sqrtf(float x) { return (float)slm_sqrt(x); }
float slm_powf(float base, float e) { return (float)slm_exp((double)e * slm_log(base)); }
float slm_sinf(float x) { return (float)slm_sin(x); }
float slm_cosf(float x) { return (float)slm_cos(x); }

float slm_roundf_even(float x) {
    /* Adding and subtracting 2^23 rounds to an integer in the current (nearest-even)
     * rounding mode; volatile keeps the compiler from folding it away. */
    if (!(x < 8388608.0f && x > -8388608.0f)) return x;
    volatile float big = x >= 0 ? 8388608.0f : -8388608.0f;
    volatile float t = x + big;
    return t - big;
}

float slm_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    fbits out;
    if (exp == 0x1f) {
        out.u = sign | 0x7f800000 | (man << 13);
    } else if (exp != 0) {
        out.u = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        out.u = sign;
    } else { /* subnormal: man * 2^-24 exactly */
        out.f = (float)man * 5.9604644775390625e-08f;
        out.u |= sign;
    }
    return out.f;
}

uint16_t slm_fp32_to_fp16(float f) {
    fbits in = {.f = f};
    uint32_t u = in.u & 0x7fffffff;
    uint16_t sign = (uint16_t)((in.u >> 16) & 0x8000);
    if (u >= 0x7f800000) return sign | 0x7c00 | (u > 0x7f800000 ? 0x200 : 0);
    if (u >= 0x477ff000) return sign | 0x7c00; /* >= 65520 rounds to infinity */
    if (u < 0x38800000) { /* below the smallest normal half: count units of 2^-24 */
        if (u <= 0x33000000) return sign; /* <= 2^-25 rounds to zero */
        uint32_t e = u >> 23, m = (u & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14..24 */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return sign | (uint16_t)r;
    }
    uint32_t h = ((u >> 23) - 112) << 10 | ((u >> 13) & 0x3ff);
    uint32_t rem = u & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return sign | (uint16_t)h;
}
