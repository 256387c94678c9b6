// Deterministic random numbers: splitmix64 (seedable from any (seed, stream) pair).
#pragma once
#include <math.h>
#include <stdint.h>

typedef struct { uint64_t s; } Rng;

static inline uint64_t rng_u64(Rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
// A generator for one purpose, e.g. (seed, step) for the batch of one step, so that a
// resumed run draws exactly the batches an uninterrupted run would have drawn.
static inline Rng rng_stream(uint64_t seed, uint64_t stream) {
    Rng r = { seed * 0x2545f4914f6cdd1dULL ^ (stream + 0x632be59bd9b4e019ULL) };
    rng_u64(&r);
    return r;
}
static inline double rng_uniform(Rng *r) { return (rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }
static inline float rng_normal(Rng *r) {
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
