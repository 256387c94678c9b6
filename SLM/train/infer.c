#include "infer.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int infer_init(Infer *s, const Model *m, int max_pos) {
    const Config *c = &m->c;
    memset(s, 0, sizeof *s);
    s->m = m;
    s->max_pos = max_pos;
    size_t kv = (size_t)c->n_layers * max_pos * m->kv_dim;
    s->kcache = calloc(kv, 4); s->vcache = calloc(kv, 4);
    s->x = calloc(c->dim, 4); s->xb = calloc(c->dim, 4); s->q = calloc(m->q_dim, 4);
    s->att = calloc(max_pos, 4); s->o = calloc(m->q_dim, 4);
    s->hb = calloc(c->ffn_dim, 4); s->hb2 = calloc(c->ffn_dim, 4); s->logits = calloc(c->vocab_size, 4);
    return s->kcache && s->vcache && s->logits ? 0 : -1;
}

void infer_free(Infer *s) {
    float *ps[] = {s->kcache, s->vcache, s->x, s->xb, s->q, s->att, s->o, s->hb, s->hb2, s->logits};
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) free(ps[i]);
    memset(s, 0, sizeof *s);
}

static void rmsnorm(float *y, const float *x, const float *w, int n, float eps) {
    float ss = 0;
    for (int j = 0; j < n; j++) ss += x[j] * x[j];
    float r = 1.0f / sqrtf(ss / n + eps);
    for (int j = 0; j < n; j++) y[j] = x[j] * r * w[j];
}

// y[out] (+)= W[out, in] x[in]
static void matvec(float *y, const float *w, const float *x, int out, int in, int accumulate) {
    #pragma omp parallel for schedule(static) if (out * in > 1 << 17)
    for (int o = 0; o < out; o++) {
        float s = 0;
        for (int i = 0; i < in; i++) s += w[(size_t)o * in + i] * x[i];
        y[o] = accumulate ? y[o] + s : s;
    }
}

static void rope(float *v, int n_heads, int hd, int pos, float theta) {
    for (int h = 0; h < n_heads; h++)
        for (int i = 0; i < hd / 2; i++) {
            double freq = pow((double)theta, -2.0 * i / hd);
            float c = (float)cos(pos * freq), s = (float)sin(pos * freq);
            float *p = v + h * hd + 2 * i, a = p[0], b = p[1];
            p[0] = a * c - b * s;
            p[1] = a * s + b * c;
        }
}

const float *infer_step(Infer *s, int token, int pos) {
    const Model *m = s->m;
    const Config *c = &m->c;
    const float *P = m->params;
    int D = c->dim, hd = m->head_dim, KVD = m->kv_dim, F = c->ffn_dim, group = c->n_heads / c->n_kv_heads;
    memcpy(s->x, P + m->tok_emb + (size_t)token * D, D * 4);
    for (int l = 0; l < c->n_layers; l++) {
        const LayerOffsets *o = &m->lo[l];
        float *kc = s->kcache + (size_t)l * s->max_pos * KVD, *vc = s->vcache + (size_t)l * s->max_pos * KVD;
        rmsnorm(s->xb, s->x, P + o->attn_norm, D, c->norm_eps);
        matvec(s->q, P + o->wq, s->xb, m->q_dim, D, 0);
        matvec(kc + (size_t)pos * KVD, P + o->wk, s->xb, KVD, D, 0);
        matvec(vc + (size_t)pos * KVD, P + o->wv, s->xb, KVD, D, 0);
        rope(s->q, c->n_heads, hd, pos, c->rope_theta);
        rope(kc + (size_t)pos * KVD, c->n_kv_heads, hd, pos, c->rope_theta);
        for (int h = 0; h < c->n_heads; h++) {
            const float *q = s->q + h * hd;
            int kvh = h / group;
            float mx = -INFINITY, sum = 0;
            for (int u = 0; u <= pos; u++) {
                const float *k = kc + (size_t)u * KVD + kvh * hd;
                float d = 0;
                for (int i = 0; i < hd; i++) d += q[i] * k[i];
                s->att[u] = d / sqrtf((float)hd);
                if (s->att[u] > mx) mx = s->att[u];
            }
            for (int u = 0; u <= pos; u++) { s->att[u] = expf(s->att[u] - mx); sum += s->att[u]; }
            float *out = s->o + h * hd;
            memset(out, 0, hd * 4);
            for (int u = 0; u <= pos; u++) {
                const float *v = vc + (size_t)u * KVD + kvh * hd;
                for (int i = 0; i < hd; i++) out[i] += s->att[u] / sum * v[i];
            }
        }
        matvec(s->x, P + o->wo, s->o, D, m->q_dim, 1);
        rmsnorm(s->xb, s->x, P + o->ffn_norm, D, c->norm_eps);
        matvec(s->hb, P + o->wg, s->xb, F, D, 0);
        matvec(s->hb2, P + o->wu, s->xb, F, D, 0);
        for (int i = 0; i < F; i++) s->hb[i] = s->hb[i] / (1.0f + expf(-s->hb[i])) * s->hb2[i];
        matvec(s->x, P + o->wd, s->hb, D, F, 1);
    }
    rmsnorm(s->xb, s->x, P + m->out_norm, D, c->norm_eps);
    matvec(s->logits, P + m->out_w, s->xb, c->vocab_size, D, 0);
    return s->logits;
}
