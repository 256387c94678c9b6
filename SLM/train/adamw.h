// AdamW with decoupled weight decay (none on norm weights), warmup + cosine learning
// rate, and clipping by the global gradient norm.
#pragma once
#include "model.h"

typedef struct { float *m, *v; } AdamW;

int adamw_init(AdamW *opt, size_t n_params);
void adamw_free(AdamW *opt);
// Linear warmup over c->warmup steps, then cosine from lr down to min_lr at c->steps.
float lr_at(const Config *c, int step);
// Scales m->grads so that their global L2 norm is at most max_norm; returns the norm before.
float clip_grad_norm(Model *m, float max_norm);
// One update; step is the 0-based index of this update (bias correction uses step+1).
void adamw_step(Model *m, AdamW *opt, int step, float lr);
