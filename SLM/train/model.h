// The llama model: parameters (one flat array, tensors named as in GGUF), the activations
// kept for the backward pass, and forward/backward over a batch of token sequences.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "config.h"

typedef struct {
    char name[48];
    int ndim, shape[2];
    size_t offset, size;   // in floats, into Model.params / grads
    int decay;             // AdamW weight decay applies (matrices and embeddings, not norms)
    int linear;            // a [out, in] weight used as y = x W^T (kept transposed in wT)
} Tensor;

typedef struct {   // offsets (in floats) of one block's tensors
    size_t attn_norm, wq, wk, wv, wo, ffn_norm, wg, wu, wd;
} LayerOffsets;

typedef struct {   // per-layer activations saved for backward
    float *x, *xn1, *r1, *q, *k, *v, *att, *o, *x2, *xn2, *r2, *g, *u, *h;
} LayerActs;

typedef struct {
    Config c;
    int head_dim, q_dim, kv_dim;
    int n_tensors;
    Tensor *t;
    LayerOffsets *lo;
    size_t tok_emb, out_norm, out_w;   // offsets
    size_t n_params;
    float *params, *grads, *wT;        // wT: transposed copies of linear weights
    // activations for up to max_rows = batch*seq_len rows
    int B, T;
    LayerActs *la;
    float *xL, *xf, *rf, *logits, *row_loss;
    float *dres, *dxn, *dq, *dk, *dv, *dout, *dh, *dg, *du;
    float *rope_cos, *rope_sin;        // [seq_len, head_dim/2]
} Model;

// Lays out the tensors and allocates parameters and activations for batches of B x T.
int model_init(Model *m, const Config *c, int B, int T);
void model_free(Model *m);
// Deterministic init from seed: N(0, std) for matrices (output projections scaled by
// 1/sqrt(2*n_layers)), ones for norms.
void model_init_weights(Model *m, uint64_t seed, float std);
Tensor *model_tensor(Model *m, const char *name);

// tokens: B rows of T+1 ids (inputs are [0,T), targets [1,T]). Returns the mean
// cross-entropy (accumulated in double). If grad is set, leaves dloss/dlogits in m->logits
// for model_backward.
double model_forward(Model *m, const uint16_t *tokens, int B, int T, int grad);
// Fills m->grads (overwrites) from the state the last forward(grad=1) left.
void model_backward(Model *m, const uint16_t *tokens, int B, int T);
// Logits of the last forward for row (b, t): m->logits + (b*T + t)*vocab (forward with grad=0).
