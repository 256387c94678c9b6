// --gradcheck: compares the analytic gradient of every parameter tensor with central
// finite differences on a tiny random model (odd shapes, so matmul's edge paths run too).
// Per tensor: a directional derivative along a random unit direction (+-1/sqrt(n)) over the
// whole tensor (large signal, so float rounding stays small relative to it) and the three
// elements with the largest |gradient| (Richardson-extrapolated central differences).
#include "gradcheck.h"
#include "model.h"
#include "rng.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double rel_err(double a, double b, double floor_) {
    double d = fabs(a - b), s = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return d / (s > floor_ ? s : floor_);
}

static double central(Model *m, const uint16_t *tok, int B, int T, float *p, double h) {
    float saved = *p;
    *p = saved + h;
    double lp = model_forward(m, tok, B, T, 0);
    *p = saved - h;
    double lm = model_forward(m, tok, B, T, 0);
    *p = saved;
    return (lp - lm) / (2 * h);
}

int gradcheck(double tol) {
    Config c = {0};
    snprintf(c.name, sizeof c.name, "gradcheck");
    c.vocab_size = 48; c.dim = 32; c.n_layers = 2; c.n_heads = 4; c.n_kv_heads = 2;
    c.ffn_dim = 64; c.rope_theta = 10000.0f; c.norm_eps = 1e-5f;
    c.seq_len = 71;   // > 64: crosses model.c's causal attention blocks, with a ragged last one
    int B = 2, T = c.seq_len;
    Model m;
    if (model_init(&m, &c, B, T)) { fprintf(stderr, "gradcheck: out of memory\n"); return 2; }
    model_init_weights(&m, 7, 0.25f);
    Rng r = rng_stream(11, 0);
    for (int i = 0; i < m.n_tensors; i++)   // norms away from 1 so their gradients matter
        if (m.t[i].ndim == 1)
            for (size_t j = 0; j < m.t[i].size; j++) m.params[m.t[i].offset + j] = 1.0f + 0.3f * rng_normal(&r);
    uint16_t *tok = malloc(sizeof(uint16_t) * B * (T + 1));
    for (int i = 0; i < B * (T + 1); i++) tok[i] = rng_u64(&r) % c.vocab_size;

    model_forward(&m, tok, B, T, 1);
    model_backward(&m, tok, B, T);
    float *g = malloc(m.n_params * sizeof(float)), *dir = malloc(m.n_params * sizeof(float));
    memcpy(g, m.grads, m.n_params * sizeof(float));

    double worst = 0;
    int nan_seen = 0;
    const double h = 1e-2;
    printf("%-28s %12s %12s %10s %10s\n", "tensor", "analytic", "numeric", "dir_err", "elem_err");
    for (int ti = 0; ti < m.n_tensors; ti++) {
        Tensor *t = &m.t[ti];
        float *p = m.params + t->offset;
        double an = 0;
        for (size_t j = 0; j < t->size; j++) {
            dir[j] = ((rng_u64(&r) & 1) ? 1.0f : -1.0f) / sqrtf((float)t->size);
            an += dir[j] * (double)g[t->offset + j];
        }
        float *saved = malloc(t->size * sizeof(float));
        memcpy(saved, p, t->size * sizeof(float));
        for (size_t j = 0; j < t->size; j++) p[j] = saved[j] + h * dir[j];
        double lp = model_forward(&m, tok, B, T, 0);
        for (size_t j = 0; j < t->size; j++) p[j] = saved[j] - h * dir[j];
        double lm = model_forward(&m, tok, B, T, 0);
        memcpy(p, saved, t->size * sizeof(float));
        double num = (lp - lm) / (2 * h), derr = rel_err(an, num, 1e-2);

        double eerr = 0;
        for (int pick = 0; pick < 3; pick++) {   // the largest remaining |g| elements
            size_t best = 0;
            double bv = -1;
            for (size_t j = 0; j < t->size; j++) {
                double v = fabs(g[t->offset + j]);
                if (v > bv && dir[j] != 0) { bv = v; best = j; }
            }
            dir[best] = 0;
            // Richardson extrapolation of two central differences cancels the h^2 term
            double d1 = central(&m, tok, B, T, p + best, h), d2 = central(&m, tok, B, T, p + best, h / 2);
            double e = rel_err(g[t->offset + best], (4 * d2 - d1) / 3, 1e-3);
            if (e > eerr) eerr = e;
        }
        free(saved);
        printf("%-28s %12.6f %12.6f %10.2e %10.2e\n", t->name, an, num, derr, eerr);
        if (isnan(derr) || isnan(eerr)) nan_seen = 1;   // NaN compares false: count it apart
        if (derr > worst) worst = derr;
        if (eerr > worst) worst = eerr;
    }
    int pass = worst <= tol && !nan_seen;
    printf("gradcheck: max relative error %.3e (tolerance %.1e) over %d tensors%s: %s\n", worst, tol,
           m.n_tensors, nan_seen ? ", NaN seen" : "", pass ? "PASS" : "FAIL");
    free(g); free(dir); free(tok);
    model_free(&m);
    return pass ? 0 : 1;
}
