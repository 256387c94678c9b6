// Single-token inference with a KV cache (for greedy generation): the same math as
// model_forward, one position at a time, written llama2.c-style with plain loops.
#pragma once
#include "model.h"

typedef struct {
    const Model *m;
    int max_pos;
    float *kcache, *vcache;   // [n_layers][max_pos][kv_dim]
    float *x, *xb, *q, *att, *o, *hb, *hb2, *logits;
} Infer;

int infer_init(Infer *s, const Model *m, int max_pos);
void infer_free(Infer *s);
// Feeds token at position pos (< max_pos, positions fed in order); returns the logits.
const float *infer_step(Infer *s, int token, int pos);
