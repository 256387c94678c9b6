#include "data.h"
#include "rng.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tokens_load(Tokens *t, const char *path, int vocab_size, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    FILE *fp = fopen(path, "rb");
    if (!fp) { snprintf(err, errlen, "cannot open token file %s", path); return -1; }
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    t->n = sz / 2;
    t->ids = malloc(t->n * 2 + 2);
    size_t got = fread(t->ids, 2, t->n, fp);
    fclose(fp);
    if (got != t->n) { snprintf(err, errlen, "%s: short read", path); return -1; }
    for (size_t i = 0; i < t->n; i++)
        if (t->ids[i] >= vocab_size) {
            snprintf(err, errlen, "%s: token id %u at position %zu is >= vocab_size %d "
                     "(tokenizer and config disagree; rebuild the tokens)", path, t->ids[i], i, vocab_size);
            return -1;
        }
    return 0;
}

void tokens_free(Tokens *t) { free(t->ids); memset(t, 0, sizeof *t); }

void batch_sample(const Tokens *t, uint16_t *out, int B, int T, uint64_t seed, int step) {
    Rng r = rng_stream(seed, (uint64_t)step);
    size_t span = t->n - (size_t)T - 1;
    for (int b = 0; b < B; b++) {
        size_t start = span ? rng_u64(&r) % span : 0;
        memcpy(out + (size_t)b * (T + 1), t->ids + start, (size_t)(T + 1) * 2);
    }
}

int batch_window(const Tokens *t, uint16_t *out, int T, size_t i) {
    size_t start = i * (size_t)T;
    if (start + T + 1 > t->n) return 0;
    memcpy(out, t->ids + start, (size_t)(T + 1) * 2);
    return 1;
}
