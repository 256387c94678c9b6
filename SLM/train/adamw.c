#include "adamw.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int adamw_init(AdamW *opt, size_t n) {
    opt->m = calloc(n ? n : 1, sizeof(float));
    opt->v = calloc(n ? n : 1, sizeof(float));
    return opt->m && opt->v ? 0 : -1;
}

void adamw_free(AdamW *opt) { free(opt->m); free(opt->v); opt->m = opt->v = NULL; }

float lr_at(const Config *c, int step) {
    if (c->warmup > 0 && step < c->warmup) return c->lr * (step + 1) / c->warmup;
    int span = c->steps - c->warmup;
    if (span <= 0) return c->lr;
    double progress = (double)(step - c->warmup) / span;
    if (progress > 1) progress = 1;
    return (float)(c->min_lr + 0.5 * (c->lr - c->min_lr) * (1.0 + cos(M_PI * progress)));
}

float clip_grad_norm(Model *m, float max_norm) {
    enum { CHUNK = 1 << 14 };
    size_t n = m->n_params, nchunks = (n + CHUNK - 1) / CHUNK;
    double *partial = calloc(nchunks ? nchunks : 1, sizeof(double));
    #pragma omp parallel for schedule(static)
    for (size_t ch = 0; ch < nchunks; ch++) {   // fixed chunks, summed in order: deterministic
        double s = 0;
        size_t end = (ch + 1) * CHUNK < n ? (ch + 1) * CHUNK : n;
        for (size_t i = ch * CHUNK; i < end; i++) s += (double)m->grads[i] * m->grads[i];
        partial[ch] = s;
    }
    double total = 0;
    for (size_t ch = 0; ch < nchunks; ch++) total += partial[ch];
    free(partial);
    float norm = (float)sqrt(total);
    if (max_norm > 0 && norm > max_norm) {
        float scale = max_norm / (norm + 1e-6f);
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) m->grads[i] *= scale;
    }
    return norm;
}

void adamw_step(Model *m, AdamW *opt, int step, float lr) {
    const Config *c = &m->c;
    float b1 = c->beta1, b2 = c->beta2;
    float bc1 = 1.0f - powf(b1, step + 1), bc2 = 1.0f - powf(b2, step + 1);
    for (int ti = 0; ti < m->n_tensors; ti++) {
        Tensor *t = &m->t[ti];
        float wd = t->decay ? c->weight_decay : 0.0f;
        float *p = m->params + t->offset, *g = m->grads + t->offset;
        float *mm = opt->m + t->offset, *vv = opt->v + t->offset;
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < t->size; i++) {
            mm[i] = b1 * mm[i] + (1 - b1) * g[i];
            vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i];
            float mhat = mm[i] / bc1, vhat = vv[i] / bc2;
            p[i] -= lr * (mhat / (sqrtf(vhat) + 1e-8f) + wd * p[i]);
        }
    }
}
