/* fp16.h — fp16 <-> fp32 helpers shared by the forward pass and the dot products
 * (inline: they sit inside the hot loops). Exact IEEE binary16, round to nearest even. */
#ifndef FP16_H
#define FP16_H

#include <stdint.h>
#include "slm_math.h"

typedef union { float f; uint32_t u; } f32bits;

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* fp16 -> fp32 without branches or tables: move the bits into place and let one
 * multiply by 2^112 fix the exponent (exact, subnormals included). */
static inline float h2f(uint16_t h) {
    f32bits o = {.u = (uint32_t)(h & 0x7fff) << 13};
    o.f *= 0x1p112f;
    o.u |= (o.f >= 65536.0f ? 255u << 23 : 0) | (uint32_t)(h & 0x8000) << 16; /* inf/nan; sign */
    return o.f;
}

/* Rounding a float to the nearest fp16 value (ties to even), kept as a float.
 * In fp16's normal range (and for 0) that is rounding the mantissa to 10 bits,
 * branch-free so loops vectorize; elsewhere round_fp16 takes the exact path. */
static inline int fp16_fast_ok(float x) {
    f32bits b = {.f = x};
    uint32_t a = b.u & 0x7fffffff;
    return a == 0 || (a - 0x38800000u) < (0x477ff000u - 0x38800000u);
}

static inline float round_fp16_fast(float x) {
    f32bits b = {.f = x};
    b.u = (b.u + 0xfff + ((b.u >> 13) & 1)) & ~0x1fffu;
    return b.f;
}

static inline float round_fp16(float x) {
    return fp16_fast_ok(x) ? round_fp16_fast(x) : slm_fp16_to_fp32(slm_fp32_to_fp16(x));
}

#endif
