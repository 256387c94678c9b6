// Portable SIMD for the trainer: GCC vector extensions compile to AVX-512, AVX2, NEON or
// SSE depending on -march, so one source serves every host the trainer is built on.
#pragma once
#include <string.h>

#if defined(__AVX512F__)
#define VL 16
#elif defined(__AVX__)
#define VL 8
#else
#define VL 4
#endif

typedef float vf __attribute__((vector_size(VL * 4)));
typedef int vi __attribute__((vector_size(VL * 4)));

static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf vsplat(float x) { return x - (vf){0}; }
// Lane-wise mask ? a : b, where mask lanes are all ones or all zeros (a vector comparison).
static inline vf vselect(vi mask, vf a, vf b) { return (vf)((mask & (vi)a) | (~mask & (vi)b)); }

// exp(x) for every lane: x = n ln2 + r (|r| <= ln2/2, ln2 split in two for exactness),
// exp(r) by a degree-6 polynomial (Cephes' expf coefficients, ~1 ulp), 2^n built in the
// exponent bits. Inputs below -87.3 give ~0 (not denormals), above 88.376 clamp (2^n must stay finite).
static inline vf vexp(vf x) {
    x = vselect(x < 88.376f, x, vsplat(88.376f));
    x = vselect(x > -87.3f, x, vsplat(-87.3f));
    vf fx = x * 1.44269504088896341f + 0.5f;
    vf n = __builtin_convertvector(__builtin_convertvector(fx, vi), vf);
    n = vselect(n > fx, n - 1.0f, n);   // conversion truncates toward zero: make it floor
    vf r = x - n * 0.693359375f + n * 2.12194440e-4f;
    vf p = vsplat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
    vf scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float vsum(vf v) {
    float s = 0;
    for (int i = 0; i < VL; i++) s += v[i];
    return s;
}

static inline float vmax(vf v) {
    float m = v[0];
    for (int i = 1; i < VL; i++) m = v[i] > m ? v[i] : m;
    return m;
}
