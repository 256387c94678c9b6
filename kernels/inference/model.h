/* model.h — the llama forward pass (one token at a time, KV cache in fp16).
 *
 *   x = token_embd[token]
 *   for each layer:
 *       h = rmsnorm(x) * attn_norm
 *       q, k, v = Wq h, Wk h, Wv h;  rope(q, k) on adjacent pairs (ggml "norm" mode)
 *       x += Wo attention(q, K[0..pos], V[0..pos])   (GQA: q head h reads kv head h/(n_heads/n_kv_heads))
 *       h = rmsnorm(x) * ffn_norm
 *       x += W_down (silu(W_gate h) * W_up h)
 *   logits = output (rmsnorm(x) * output_norm)
 *
 * The arithmetic follows ggml's CPU backend where it changes results: Q8_0/Q4_0
 * weights multiply activations quantized to Q8_0 with integer dots; K/V are stored
 * as fp16 and q is rounded to fp16 before q.k; attention accumulates V the way
 * llama.cpp's flash-attention kernel does (online softmax, fp16 accumulator).
 */
#ifndef MODEL_H
#define MODEL_H

#include <stdint.h>
#include <stddef.h>
#include "gguf.h"
#include "arena.h"
#include "errbuf.h"

typedef struct {
    int dim;        /* llama.embedding_length */
    int n_layers;   /* llama.block_count */
    int n_heads;    /* llama.attention.head_count */
    int n_kv_heads; /* llama.attention.head_count_kv */
    int head_dim;   /* dim / n_heads */
    int rope_dim;   /* llama.rope.dimension_count (<= head_dim) */
    int ffn_dim;    /* llama.feed_forward_length */
    int vocab;      /* rows of token_embd */
    int ctx_len;    /* llama.context_length: positions the KV cache holds */
    float eps;      /* llama.attention.layer_norm_rms_epsilon */
    float rope_theta; /* llama.rope.freq_base */
} slm_config;

/* A weight matrix [rows, cols] (PyTorch [out, in]; GGUF ne0 = cols), in place. */
typedef struct {
    uint32_t type; /* GGML_F32, GGML_F16, GGML_Q8_0 or GGML_Q4_0 */
    const uint8_t *data;
    int rows, cols;
    size_t row_bytes;
    /* Hosted builds only (NULL in the kernels): a Q8_0/Q4_0 matrix's block scales copied
     * out contiguously, rows x (cols / 32) fp16 values, made at load time so the AVX-512
     * rows functions convert them 16 at a time instead of picking them out block by block. */
    const uint16_t *dh;
} slm_mat;

typedef struct {
    const float *attn_norm, *ffn_norm;
    slm_mat wq, wk, wv, wo;
    slm_mat w_gate, w_up, w_down;
} slm_layer;

typedef struct {
    slm_config c;
    slm_mat tok_embd, output; /* output = tok_embd when output.weight is absent (tied) */
    const float *output_norm;
    slm_layer *layers;
    uint32_t weight_type; /* the type of blk.0.attn_q.weight, for slm_info */
    uint64_t weight_bytes;
} slm_model;

/* Activations and the KV cache; sized for one sequence of c.ctx_len tokens. */
typedef struct {
    float *x, *xb, *xb2;   /* residual stream and scratch [dim] */
    float *q, *k, *v;      /* [n_heads*head_dim], [n_kv_heads*head_dim] x2 */
    float *att;            /* attention output [n_heads*head_dim] */
    float *hb, *hb2;       /* ffn hidden [ffn_dim] */
    float *logits;         /* [vocab] */
    int8_t *aq;            /* activation quantized to Q8_0: values, then sums of 4 (dot.h) ... */
    float *ad;             /* ... and one scale per 32 */
    float *xh;             /* activation rounded to fp16, for F16 weights */
    float *rope_cs;        /* cos/sin pairs for the current position [rope_dim] */
    uint16_t *k_cache, *v_cache; /* fp16 [n_layers][ctx_len][n_kv_heads*head_dim] */
} slm_state;

/* Reads hyperparameters and finds every tensor; checks shapes and types.
 * Returns 0, or -1 with a message naming the key or tensor. */
int model_load(slm_model *m, const gguf_file *f, slm_arena *a, errbuf *e);

/* Bytes of arena model_load + state_init need for this config. */
size_t model_memory(const slm_config *c);
int model_read_config(slm_config *c, const gguf_file *f, errbuf *e);

int state_init(slm_state *s, const slm_config *c, slm_arena *a);

/* Runs one token at position pos (0 <= pos < ctx_len; earlier positions must be
 * in the cache) and returns the logits [vocab]. */
float *model_forward(const slm_model *m, slm_state *s, int token, int pos);

#if __STDC_HOSTED__
/* Host-only (slm-run --f32-kv; the kernels never compile it): from now on model_forward
 * keeps K and V in these F32 caches, n_layers x ctx_len x (n_kv_heads * head_dim) floats
 * each, instead of the fp16 ones, and computes attention in plain F32 (scores from the
 * unrounded q, an exact two-pass softmax, the weighted sum of V in an F32 accumulator),
 * which is what an exact float32 runtime (the ONNX graph) computes. NULL, NULL switches
 * back to the default (llama.cpp's fp16 KV) path, which this leaves bit for bit as it is.
 * Caches must be switched only between sequences (before position 0). */
void model_set_f32_kv(float *k_cache, float *v_cache);
#endif

/* Compares the forward pass's host-only fast paths (AVX-512 expf, SwiGLU, attention)
 * with their portable definitions on seeded data: the number of values compared (0 where
 * there are none), or -1 with *bad_name set. */
long model_selfcheck(const char **bad_name);

#endif
