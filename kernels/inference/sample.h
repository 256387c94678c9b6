/* sample.h — choosing the next token from logits: greedy, or top-k with a
 * seeded xorshift64* RNG (same seed, same text, on every arch). */
#ifndef SAMPLE_H
#define SAMPLE_H

#include <stdint.h>

#define SAMPLE_MAX_TOPK 256

typedef struct {
    uint64_t state;
} slm_rng;

void rng_seed(slm_rng *r, uint64_t seed);
uint32_t rng_u32(slm_rng *r);
float rng_unit(slm_rng *r); /* uniform in [0, 1) */

/* Index of the largest logit (the first one on ties). */
int sample_greedy(const float *logits, int n);

/* Keep the k largest logits (k clamped to 1..SAMPLE_MAX_TOPK), softmax them at
 * temperature 1 and draw one. k == 1 is greedy. */
int sample_topk(const float *logits, int n, int k, slm_rng *r);

#endif
