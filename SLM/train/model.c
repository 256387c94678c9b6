// Forward and hand-written backward of the llama block stack. Shapes (N = B*T rows):
//   x [N,D] -> rmsnorm -> q,k,v (RoPE on q,k) -> causal GQA attention -> o [N,QD]
//   x2 = x + o Wo^T -> rmsnorm -> h = silu(x Wg^T) * (x Wu^T) -> x3 = x2 + h Wd^T
// Every matrix product goes through matmul() (matmul.c).
#include "model.h"
#include "matmul.h"
#include "rng.h"
#include "simd.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *alloc_floats(size_t n) {
    float *p = NULL;
    if (posix_memalign((void **)&p, 64, (n ? n : 1) * sizeof(float))) return NULL;
    memset(p, 0, (n ? n : 1) * sizeof(float));
    return p;
}

static size_t add_tensor(Model *m, size_t *off, const char *name, int rows, int cols, int decay) {
    Tensor *t = &m->t[m->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = cols ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->size = (size_t)rows * (cols ? cols : 1);
    t->offset = *off;
    t->decay = decay;
    t->linear = cols && strcmp(name, "token_embd.weight") != 0;
    *off += (t->size + 15) & ~(size_t)15;   // 64-byte aligned tensors
    return t->offset;
}

int model_init(Model *m, const Config *c, int B, int T) {
    memset(m, 0, sizeof *m);
    m->c = *c;
    int D = c->dim, L = c->n_layers, V = c->vocab_size, F = c->ffn_dim;
    m->head_dim = D / c->n_heads;
    m->q_dim = c->n_heads * m->head_dim;
    m->kv_dim = c->n_kv_heads * m->head_dim;
    m->t = calloc(4 + 9 * (size_t)L, sizeof(Tensor));
    m->lo = calloc(L, sizeof(LayerOffsets));
    size_t off = 0;
    char nm[48];
    m->tok_emb = add_tensor(m, &off, "token_embd.weight", V, D, 1);
    for (int l = 0; l < L; l++) {
        LayerOffsets *o = &m->lo[l];
#define T_(field, suffix, r, cc, dec) snprintf(nm, sizeof nm, "blk.%d." suffix, l); o->field = add_tensor(m, &off, nm, r, cc, dec)
        T_(attn_norm, "attn_norm.weight", D, 0, 0);
        T_(wq, "attn_q.weight", m->q_dim, D, 1);
        T_(wk, "attn_k.weight", m->kv_dim, D, 1);
        T_(wv, "attn_v.weight", m->kv_dim, D, 1);
        T_(wo, "attn_output.weight", D, m->q_dim, 1);
        T_(ffn_norm, "ffn_norm.weight", D, 0, 0);
        T_(wg, "ffn_gate.weight", F, D, 1);
        T_(wu, "ffn_up.weight", F, D, 1);
        T_(wd, "ffn_down.weight", D, F, 1);
#undef T_
    }
    m->out_norm = add_tensor(m, &off, "output_norm.weight", D, 0, 0);
    m->out_w = add_tensor(m, &off, "output.weight", V, D, 1);
    m->n_params = off;
    m->params = alloc_floats(off);
    m->grads = alloc_floats(off);
    m->wT = alloc_floats(off);

    m->B = B; m->T = T;
    size_t N = (size_t)B * T;
    m->la = calloc(L, sizeof(LayerActs));
    for (int l = 0; l < L; l++) {
        LayerActs *a = &m->la[l];
        a->x = alloc_floats(N * D); a->xn1 = alloc_floats(N * D); a->r1 = alloc_floats(N);
        a->q = alloc_floats(N * m->q_dim); a->k = alloc_floats(N * m->kv_dim); a->v = alloc_floats(N * m->kv_dim);
        a->att = alloc_floats((size_t)B * c->n_heads * T * T); a->o = alloc_floats(N * m->q_dim);
        a->x2 = alloc_floats(N * D); a->xn2 = alloc_floats(N * D); a->r2 = alloc_floats(N);
        a->g = alloc_floats(N * F); a->u = alloc_floats(N * F); a->h = alloc_floats(N * F);
        if (!a->att || !a->h) return -1;
    }
    m->xL = alloc_floats(N * D); m->xf = alloc_floats(N * D); m->rf = alloc_floats(N);
    m->logits = alloc_floats(N * V); m->row_loss = alloc_floats(N);
    m->dres = alloc_floats(N * D); m->dxn = alloc_floats(N * D);
    m->dq = alloc_floats(N * m->q_dim); m->dk = alloc_floats(N * m->kv_dim); m->dv = alloc_floats(N * m->kv_dim);
    m->dout = alloc_floats(N * m->q_dim);
    m->dh = alloc_floats(N * F); m->dg = alloc_floats(N * F); m->du = alloc_floats(N * F);
    int half = m->head_dim / 2;
    m->rope_cos = alloc_floats((size_t)T * half); m->rope_sin = alloc_floats((size_t)T * half);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double freq = pow((double)c->rope_theta, -2.0 * i / m->head_dim);
            m->rope_cos[t * half + i] = (float)cos(t * freq);
            m->rope_sin[t * half + i] = (float)sin(t * freq);
        }
    if (!m->params || !m->logits || !m->du) return -1;
    return 0;
}

void model_free(Model *m) {
    for (int l = 0; l < m->c.n_layers && m->la; l++) {
        LayerActs *a = &m->la[l];
        float *ps[] = {a->x, a->xn1, a->r1, a->q, a->k, a->v, a->att, a->o, a->x2, a->xn2, a->r2, a->g, a->u, a->h};
        for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) free(ps[i]);
    }
    float *ps[] = {m->params, m->grads, m->wT, m->xL, m->xf, m->rf, m->logits, m->row_loss, m->dres, m->dxn,
                   m->dq, m->dk, m->dv, m->dout, m->dh, m->dg, m->du, m->rope_cos, m->rope_sin};
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) free(ps[i]);
    free(m->la); free(m->t); free(m->lo);
    memset(m, 0, sizeof *m);
}

Tensor *model_tensor(Model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->t[i].name, name)) return &m->t[i];
    return NULL;
}

void model_init_weights(Model *m, uint64_t seed, float std) {
    float proj_scale = 1.0f / sqrtf(2.0f * m->c.n_layers);
    for (int i = 0; i < m->n_tensors; i++) {
        Tensor *t = &m->t[i];
        Rng r = rng_stream(seed, 1000 + i);   // one stream per tensor: init does not depend on order
        float *p = m->params + t->offset;
        if (t->ndim == 1) { for (size_t j = 0; j < t->size; j++) p[j] = 1.0f; continue; }
        float s = std;
        if (strstr(t->name, "attn_output") || strstr(t->name, "ffn_down")) s *= proj_scale;
        for (size_t j = 0; j < t->size; j++) p[j] = s * rng_normal(&r);
    }
}

// ---- building blocks ------------------------------------------------------------------

static void rmsnorm_fwd(float *y, float *rinv, const float *x, const float *w, int N, int D, float eps) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * D;
        float ss = 0;
        for (int j = 0; j < D; j++) ss += xr[j] * xr[j];
        float r = 1.0f / sqrtf(ss / D + eps);
        rinv[n] = r;
        for (int j = 0; j < D; j++) y[(size_t)n * D + j] = xr[j] * r * w[j];
    }
}

// dx += d(rmsnorm)/dx . dy ;  dw += sum_n dy * x * r
static void rmsnorm_bwd(float *dx, float *dw, const float *dy, const float *x, const float *rinv,
                        const float *w, int N, int D) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * D, *dyr = dy + (size_t)n * D;
        float r = rinv[n], dot = 0;
        for (int j = 0; j < D; j++) dot += dyr[j] * w[j] * xr[j];
        float c = dot * r * r * r / D;
        for (int j = 0; j < D; j++) dx[(size_t)n * D + j] += r * dyr[j] * w[j] - c * xr[j];
    }
    for (int n = 0; n < N; n++) {   // serial: a fixed summation order for dw
        const float *xr = x + (size_t)n * D, *dyr = dy + (size_t)n * D;
        for (int j = 0; j < D; j++) dw[j] += dyr[j] * xr[j] * rinv[n];
    }
}

// Rotates adjacent pairs (x[2i], x[2i+1]) of every head by angle t*theta^(-2i/hd);
// dir = -1 applies the inverse rotation (the backward pass).
static void rope(float *x, int N, int T, int n_heads, int hd, const float *cs, const float *sn, int dir) {
    int half = hd / 2;
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        int t = n % T;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + ((size_t)n * n_heads + h) * hd;
            for (int i = 0; i < half; i++) {
                float c = cs[t * half + i], s = dir * sn[t * half + i];
                float a = v[2 * i], b = v[2 * i + 1];
                v[2 * i] = a * c - b * s;
                v[2 * i + 1] = a * s + b * c;
            }
        }
    }
}

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

// max of x[0..n): whole vectors first, then the tail.
static float row_max(const float *x, int n) {
    int nv = n / VL * VL;
    vf vm = vsplat(-INFINITY);
    for (int u = 0; u < nv; u += VL) { vf v = vload(x + u); vm = vselect(v > vm, v, vm); }
    float mx = vmax(vm);
    for (int u = nv; u < n; u++) if (x[u] > mx) mx = x[u];
    return mx;
}

// sum of exp(x[u] - mx) over x[0..n); store: x[u] becomes exp(x[u] - mx).
static float row_exp_sum(float *x, int n, float mx, int store) {
    int nv = n / VL * VL;
    vf vs = {0};
    for (int u = 0; u < nv; u += VL) {
        vf e = vexp(vload(x + u) - mx);
        vs += e;
        if (store) vstore(x + u, e);
    }
    float sum = vsum(vs);
    for (int u = nv; u < n; u++) {
        float e = expf(x[u] - mx);
        sum += e;
        if (store) x[u] = e;
    }
    return sum;
}

// row[0..n) = softmax(row * scale), row[n..len) = 0.
static void softmax_row(float *row, int n, int len, float scale) {
    int nv = n / VL * VL;
    for (int u = 0; u < nv; u += VL) vstore(row + u, vload(row + u) * scale);
    for (int u = nv; u < n; u++) row[u] *= scale;
    float inv = 1.0f / row_exp_sum(row, n, row_max(row, n), 1);
    for (int u = 0; u < n; u++) row[u] *= inv;
    for (int u = n; u < len; u++) row[u] = 0;
}

// h = silu(g) * u, whole vectors then a scalar tail.
static void swiglu_fwd(float *h, const float *g, const float *u, size_t n) {
    size_t nv = n / VL * VL;
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < nv; i += VL) {
        vf gv = vload(g + i);
        vstore(h + i, gv / (1.0f + vexp(-gv)) * vload(u + i));
    }
    for (size_t i = nv; i < n; i++) h[i] = g[i] * sigmoidf(g[i]) * u[i];
}

static void swiglu_bwd(float *dg, float *du, const float *dh, const float *g, const float *u, size_t n) {
    size_t nv = n / VL * VL;
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < nv; i += VL) {
        vf gv = vload(g + i), s = 1.0f / (1.0f + vexp(-gv)), d = vload(dh + i);
        vstore(du + i, d * gv * s);
        vstore(dg + i, d * vload(u + i) * s * (1.0f + gv * (1.0f - s)));
    }
    for (size_t i = nv; i < n; i++) {
        float s = sigmoidf(g[i]);
        du[i] = dh[i] * g[i] * s;
        dg[i] = dh[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    }
}

// Cross-entropy of one row of logits; with grad, the row becomes (softmax - onehot) * gscale.
static float xent_row(float *row, int V, int target, int grad, float gscale) {
    float mx = row_max(row, V), tl = row[target];
    double sum = row_exp_sum(row, V, mx, grad);
    if (grad) {
        float inv = (float)(1.0 / sum) * gscale;
        for (int j = 0; j < V; j++) row[j] *= inv;
        row[target] -= gscale;
    }
    return (float)(mx + log(sum) - tl);
}

// Causal attention of one (batch, head) pair as matrix products through matmul(), in
// blocks of CB query rows: a block only multiplies the keys it can see, so the products
// skip most of the masked upper triangle. Called inside a parallel loop, so matmul's own
// parallel region runs single-threaded there.
#define CB 64
static void attention_fwd(float *att, float *out, const float *q, const float *k, const float *v,
                          int B, int T, int H, int KV, int hd) {
    int QD = H * hd, KVD = KV * hd, group = H / KV;
    float scale = 1.0f / sqrtf((float)hd);
    #pragma omp parallel
    {
        float *kT = malloc((size_t)hd * T * sizeof(float));
        #pragma omp for collapse(2) schedule(static)
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++) {
                const float *qh = q + (size_t)b * T * QD + h * hd;
                const float *kh = k + (size_t)b * T * KVD + (h / group) * hd;
                const float *vh = v + (size_t)b * T * KVD + (h / group) * hd;
                float *p = att + (size_t)(b * H + h) * T * T;
                for (int u = 0; u < T; u++)
                    for (int i = 0; i < hd; i++) kT[(size_t)i * T + u] = kh[(size_t)u * KVD + i];
                for (int r0 = 0; r0 < T; r0 += CB) {   // rows [r0, r1) see keys [0, r1)
                    int r1 = r0 + CB < T ? r0 + CB : T;
                    matmul(p + (size_t)r0 * T, T, qh + (size_t)r0 * QD, QD, 1, kT, T, r1 - r0, r1, hd, 0);   // S = Q K^T
                    for (int t = r0; t < r1; t++) softmax_row(p + (size_t)t * T, t + 1, T, scale);
                    matmul(out + ((size_t)b * T + r0) * QD + h * hd, QD, p + (size_t)r0 * T, T, 1, vh, KVD,
                           r1 - r0, hd, r1, 0);   // O = P V
                }
            }
        free(kT);
    }
}

// Parallel over (batch, kv head): the q heads of one group all add into the same dk, dv.
static void attention_bwd(float *dq, float *dk, float *dv, const float *dout, const float *att,
                          const float *q, const float *k, const float *v, int B, int T, int H, int KV, int hd) {
    int QD = H * hd, KVD = KV * hd, group = H / KV;
    float scale = 1.0f / sqrtf((float)hd);
    #pragma omp parallel
    {
        float *vT = malloc((size_t)hd * T * sizeof(float)), *ds = malloc((size_t)T * T * sizeof(float));
        #pragma omp for collapse(2) schedule(static)
        for (int b = 0; b < B; b++)
            for (int kvh = 0; kvh < KV; kvh++) {
                const float *kh = k + (size_t)b * T * KVD + kvh * hd, *vh = v + (size_t)b * T * KVD + kvh * hd;
                float *dkh = dk + (size_t)b * T * KVD + kvh * hd, *dvh = dv + (size_t)b * T * KVD + kvh * hd;
                for (int u = 0; u < T; u++)
                    for (int i = 0; i < hd; i++) vT[(size_t)i * T + u] = vh[(size_t)u * KVD + i];
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    const float *p = att + (size_t)(b * H + h) * T * T;
                    const float *doh = dout + (size_t)b * T * QD + h * hd, *qh = q + (size_t)b * T * QD + h * hd;
                    int acc = h != kvh * group;
                    for (int r0 = 0; r0 < T; r0 += CB) {
                        int r1 = r0 + CB < T ? r0 + CB : T;
                        // keys [r0, r1) were seen by queries [r0, T): dV (+)= P^T dO
                        matmul(dvh + (size_t)r0 * KVD, KVD, p + (size_t)r0 * T + r0, 1, T, doh + (size_t)r0 * QD, QD,
                               r1 - r0, hd, T - r0, acc);
                        // queries [r0, r1) saw keys [0, r1): dP = dO V^T, softmax backward
                        matmul(ds + (size_t)r0 * T, T, doh + (size_t)r0 * QD, QD, 1, vT, T, r1 - r0, r1, hd, 0);
                        for (int t = r0; t < r1; t++) {
                            const float *pr = p + (size_t)t * T;
                            float *dr = ds + (size_t)t * T, sum = 0;
                            for (int u = 0; u <= t; u++) sum += pr[u] * dr[u];
                            for (int u = 0; u <= t; u++) dr[u] = pr[u] * (dr[u] - sum) * scale;
                            for (int u = t + 1; u < T; u++) dr[u] = 0;
                        }
                    }
                    for (int r0 = 0; r0 < T; r0 += CB) {   // needs every row of dS
                        int r1 = r0 + CB < T ? r0 + CB : T;
                        matmul(dq + ((size_t)b * T + r0) * QD + h * hd, QD, ds + (size_t)r0 * T, T, 1, kh, KVD,
                               r1 - r0, hd, r1, 0);   // dQ = dS K
                        matmul(dkh + (size_t)r0 * KVD, KVD, ds + (size_t)r0 * T + r0, 1, T, qh + (size_t)r0 * QD, QD,
                               r1 - r0, hd, T - r0, acc);   // dK (+)= dS^T Q
                    }
                }
            }
        free(vT);
        free(ds);
    }
}

// ---- forward / backward ------------------------------------------------------------------

double model_forward(Model *m, const uint16_t *tok, int B, int T, int grad) {
    const Config *c = &m->c;
    int D = c->dim, QD = m->q_dim, KVD = m->kv_dim, F = c->ffn_dim, V = c->vocab_size;
    int H = c->n_heads, KV = c->n_kv_heads, hd = m->head_dim, N = B * T;
    float *P = m->params, *WT = m->wT;
    for (int i = 0; i < m->n_tensors; i++) {
        Tensor *t = &m->t[i];
        if (t->linear) transpose(WT + t->offset, P + t->offset, t->shape[0], t->shape[1]);
    }
    for (int n = 0; n < N; n++) {
        int id = tok[(n / T) * (T + 1) + n % T];
        memcpy(m->la[0].x + (size_t)n * D, P + m->tok_emb + (size_t)id * D, D * sizeof(float));
    }
    for (int l = 0; l < c->n_layers; l++) {
        LayerActs *a = &m->la[l];
        LayerOffsets *o = &m->lo[l];
        rmsnorm_fwd(a->xn1, a->r1, a->x, P + o->attn_norm, N, D, c->norm_eps);
        matmul(a->q, QD, a->xn1, D, 1, WT + o->wq, QD, N, QD, D, 0);
        matmul(a->k, KVD, a->xn1, D, 1, WT + o->wk, KVD, N, KVD, D, 0);
        matmul(a->v, KVD, a->xn1, D, 1, WT + o->wv, KVD, N, KVD, D, 0);
        rope(a->q, N, T, H, hd, m->rope_cos, m->rope_sin, 1);
        rope(a->k, N, T, KV, hd, m->rope_cos, m->rope_sin, 1);
        attention_fwd(a->att, a->o, a->q, a->k, a->v, B, T, H, KV, hd);
        memcpy(a->x2, a->x, (size_t)N * D * sizeof(float));
        matmul(a->x2, D, a->o, QD, 1, WT + o->wo, D, N, D, QD, 1);
        rmsnorm_fwd(a->xn2, a->r2, a->x2, P + o->ffn_norm, N, D, c->norm_eps);
        matmul(a->g, F, a->xn2, D, 1, WT + o->wg, F, N, F, D, 0);
        matmul(a->u, F, a->xn2, D, 1, WT + o->wu, F, N, F, D, 0);
        swiglu_fwd(a->h, a->g, a->u, (size_t)N * F);
        float *next = l + 1 < c->n_layers ? m->la[l + 1].x : m->xL;
        memcpy(next, a->x2, (size_t)N * D * sizeof(float));
        matmul(next, D, a->h, F, 1, WT + o->wd, D, N, D, F, 1);
    }
    rmsnorm_fwd(m->xf, m->rf, m->xL, P + m->out_norm, N, D, c->norm_eps);
    matmul(m->logits, V, m->xf, D, 1, WT + m->out_w, V, N, V, D, 0);
    // cross-entropy; with grad, logits become dloss/dlogits = (softmax - onehot) / N
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        int target = tok[(n / T) * (T + 1) + n % T + 1];
        m->row_loss[n] = xent_row(m->logits + (size_t)n * V, V, target, grad, 1.0f / N);
    }
    double loss = 0;
    for (int n = 0; n < N; n++) loss += m->row_loss[n];
    return loss / N;
}

void model_backward(Model *m, const uint16_t *tok, int B, int T) {
    const Config *c = &m->c;
    int D = c->dim, QD = m->q_dim, KVD = m->kv_dim, F = c->ffn_dim, V = c->vocab_size;
    int H = c->n_heads, KV = c->n_kv_heads, hd = m->head_dim, N = B * T;
    float *P = m->params, *G = m->grads;
    memset(G, 0, m->n_params * sizeof(float));
    // output layer and final norm
    matmul(G + m->out_w, D, m->logits, 1, V, m->xf, D, V, D, N, 0);
    matmul(m->dxn, D, m->logits, V, 1, P + m->out_w, D, N, D, V, 0);
    memset(m->dres, 0, (size_t)N * D * sizeof(float));
    rmsnorm_bwd(m->dres, G + m->out_norm, m->dxn, m->xL, m->rf, P + m->out_norm, N, D);
    for (int l = c->n_layers - 1; l >= 0; l--) {
        LayerActs *a = &m->la[l];
        LayerOffsets *o = &m->lo[l];
        // ffn: x3 = x2 + (silu(g) * u) Wd^T
        matmul(G + o->wd, F, m->dres, 1, D, a->h, F, D, F, N, 0);
        matmul(m->dh, F, m->dres, D, 1, P + o->wd, F, N, F, D, 0);
        swiglu_bwd(m->dg, m->du, m->dh, a->g, a->u, (size_t)N * F);
        matmul(G + o->wg, D, m->dg, 1, F, a->xn2, D, F, D, N, 0);
        matmul(G + o->wu, D, m->du, 1, F, a->xn2, D, F, D, N, 0);
        matmul(m->dxn, D, m->dg, F, 1, P + o->wg, D, N, D, F, 0);
        matmul(m->dxn, D, m->du, F, 1, P + o->wu, D, N, D, F, 1);
        rmsnorm_bwd(m->dres, G + o->ffn_norm, m->dxn, a->x2, a->r2, P + o->ffn_norm, N, D);
        // attention: x2 = x + o Wo^T
        matmul(G + o->wo, QD, m->dres, 1, D, a->o, QD, D, QD, N, 0);
        matmul(m->dout, QD, m->dres, D, 1, P + o->wo, QD, N, QD, D, 0);
        attention_bwd(m->dq, m->dk, m->dv, m->dout, a->att, a->q, a->k, a->v, B, T, H, KV, hd);
        rope(m->dq, N, T, H, hd, m->rope_cos, m->rope_sin, -1);
        rope(m->dk, N, T, KV, hd, m->rope_cos, m->rope_sin, -1);
        matmul(G + o->wq, D, m->dq, 1, QD, a->xn1, D, QD, D, N, 0);
        matmul(G + o->wk, D, m->dk, 1, KVD, a->xn1, D, KVD, D, N, 0);
        matmul(G + o->wv, D, m->dv, 1, KVD, a->xn1, D, KVD, D, N, 0);
        matmul(m->dxn, D, m->dq, QD, 1, P + o->wq, D, N, D, QD, 0);
        matmul(m->dxn, D, m->dk, KVD, 1, P + o->wk, D, N, D, KVD, 1);
        matmul(m->dxn, D, m->dv, KVD, 1, P + o->wv, D, N, D, KVD, 1);
        rmsnorm_bwd(m->dres, G + o->attn_norm, m->dxn, a->x, a->r1, P + o->attn_norm, N, D);
    }
    for (int n = 0; n < N; n++) {   // serial: rows sharing a token add in a fixed order
        int id = tok[(n / T) * (T + 1) + n % T];
        float *ge = G + m->tok_emb + (size_t)id * D, *d = m->dres + (size_t)n * D;
        for (int j = 0; j < D; j++) ge[j] += d[j];
    }
}
