// Token files (little-endian uint16 ids, see SLM/tools/tokenize.ts) and batch sampling.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct { uint16_t *ids; size_t n; } Tokens;

// Loads path and checks every id is < vocab_size.
int tokens_load(Tokens *t, const char *path, int vocab_size, char *err, size_t errlen);
void tokens_free(Tokens *t);
// B random windows of T+1 tokens; the windows depend only on (seed, step).
void batch_sample(const Tokens *t, uint16_t *out, int B, int T, uint64_t seed, int step);
// Window i of the fixed evaluation split: tokens [i*T, i*T + T]. Returns 0 past the end.
int batch_window(const Tokens *t, uint16_t *out, int T, size_t i);
