/* sample.c — see sample.h. */
#include "sample.h"
#include "slm_math.h"

void rng_seed(slm_rng *r, uint64_t seed) {
    /* splitmix64 once, so that small seeds (0, 1, 2) give unrelated streams */
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    r->state = z ? z : 0x2545f4914f6cdd1dULL;
}

uint32_t rng_u32(slm_rng *r) {
    r->state ^= r->state >> 12;
    r->state ^= r->state << 25;
    r->state ^= r->state >> 27;
    return (uint32_t)((r->state * 0x2545f4914f6cdd1dULL) >> 32);
}

float rng_unit(slm_rng *r) { return (float)(rng_u32(r) >> 8) / 16777216.0f; }

int sample_greedy(const float *logits, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

int sample_topk(const float *logits, int n, int k, slm_rng *r) {
    int idx[SAMPLE_MAX_TOPK] = {0};
    float p[SAMPLE_MAX_TOPK];
    if (k > SAMPLE_MAX_TOPK) k = SAMPLE_MAX_TOPK;
    if (k > n) k = n;
    if (k <= 1) return sample_greedy(logits, n);
    /* insertion into a sorted top-k list: k is small */
    int have = 0;
    for (int i = 0; i < n; i++) {
        if (have == k && logits[i] <= logits[idx[k - 1]]) continue;
        int j = have < k ? have++ : k - 1;
        while (j > 0 && logits[idx[j - 1]] < logits[i]) { idx[j] = idx[j - 1]; j--; }
        idx[j] = i;
    }
    float max = logits[idx[0]], sum = 0.0f;
    for (int j = 0; j < k; j++) sum += p[j] = slm_expf(logits[idx[j]] - max);
    float u = rng_unit(r) * sum;
    for (int j = 0; j < k; j++) {
        u -= p[j];
        if (u < 0.0f) return idx[j];
    }
    return idx[k - 1];
}
