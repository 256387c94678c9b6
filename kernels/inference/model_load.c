/* model_load.c — the model from a parsed GGUF: its config, its matrices in place, the
 * state's buffers (see model.h). The forward pass is in model.c. */
#include "model.h"
#include "slm_math.h"
#include "klib.h"
#include "fp16.h"
#include "dot.h"

static int load_fail(errbuf *e, const char *what, const char *name, const char *why) {
    errbuf_s(e, "model: ");
    errbuf_s(e, what);
    errbuf_s(e, name);
    errbuf_s(e, why);
    return -1;
}

static int need_u32(const gguf_file *f, const char *key, uint32_t *v, errbuf *e, int required) {
    int r = gguf_get_u32(f, key, v);
    if (r == -2) return load_fail(e, "key ", key, " must be UINT32");
    if (r == -1 && required) return load_fail(e, "key ", key, " is missing");
    return 0;
}

int model_read_config(slm_config *c, const gguf_file *f, errbuf *e) {
    gguf_str arch;
    uint32_t v[8];
    if (gguf_get_str(f, "general.architecture", &arch) != 0) return load_fail(e, "key ", "general.architecture", " is missing");
    if (!gguf_str_eq(arch, "llama")) return load_fail(e, "", "general.architecture", " is not \"llama\" (the only supported architecture)");
    if (need_u32(f, "llama.context_length", &v[0], e, 1) || need_u32(f, "llama.embedding_length", &v[1], e, 1) ||
        need_u32(f, "llama.block_count", &v[2], e, 1) || need_u32(f, "llama.feed_forward_length", &v[3], e, 1) ||
        need_u32(f, "llama.attention.head_count", &v[4], e, 1))
        return -1;
    v[5] = v[4];
    if (need_u32(f, "llama.attention.head_count_kv", &v[5], e, 0)) return -1;
    for (int i = 0; i < 6; i++)
        if (v[i] == 0 || v[i] > (1u << 20)) return load_fail(e, "", "hyperparameters", " must be between 1 and 2^20");
    c->ctx_len = (int)v[0];
    c->dim = (int)v[1];
    c->n_layers = (int)v[2];
    c->ffn_dim = (int)v[3];
    c->n_heads = (int)v[4];
    c->n_kv_heads = (int)v[5];
    if (c->dim % c->n_heads || (c->dim / c->n_heads) % 2 || c->n_heads % c->n_kv_heads)
        return load_fail(e, "", "head counts", ": dim/n_heads must be an even integer and n_heads a multiple of n_kv_heads");
    c->head_dim = c->dim / c->n_heads;
    if (c->head_dim > 512) return load_fail(e, "", "head size", " over 512 is not supported");
    v[6] = (uint32_t)c->head_dim;
    if (need_u32(f, "llama.rope.dimension_count", &v[6], e, 0)) return -1;
    if (v[6] == 0 || v[6] % 2 || v[6] > (uint32_t)c->head_dim)
        return load_fail(e, "key ", "llama.rope.dimension_count", " must be even and at most the head size");
    c->rope_dim = (int)v[6];
    if (gguf_get_f32(f, "llama.attention.layer_norm_rms_epsilon", &c->eps) != 0)
        return load_fail(e, "key ", "llama.attention.layer_norm_rms_epsilon", " (FLOAT32) is missing");
    c->rope_theta = 10000.0f;
    int r = gguf_get_f32(f, "llama.rope.freq_base", &c->rope_theta);
    if (r == -2 || !(c->rope_theta > 0.0f)) return load_fail(e, "key ", "llama.rope.freq_base", " must be a positive FLOAT32");
    gguf_tensor t;
    if (!gguf_find_tensor(f, "token_embd.weight", &t) || t.n_dims != 2)
        return load_fail(e, "tensor ", "token_embd.weight", " is missing or not 2-D");
    if (t.ne[1] > (1u << 24) || t.ne[0] != (uint64_t)c->dim)
        return load_fail(e, "tensor ", "token_embd.weight", " must be [vocab, embedding_length] with vocab <= 2^24");
    c->vocab = (int)t.ne[1];
    return 0;
}

static void tensor_name(char *buf, int layer, const char *suffix) {
    errbuf b = errbuf_init(buf, 64);
    if (layer >= 0) { errbuf_s(&b, "blk."); errbuf_u(&b, (uint64_t)layer); errbuf_s(&b, "."); }
    errbuf_s(&b, suffix);
}

static int get_mat(const gguf_file *f, int layer, const char *suffix, int rows, int cols, slm_mat *m, errbuf *e) {
    char name[64];
    gguf_tensor t;
    tensor_name(name, layer, suffix);
    if (!gguf_find_tensor(f, name, &t)) return load_fail(e, "tensor ", name, " is missing");
    if (t.n_dims != 2 || t.ne[0] != (uint64_t)cols || t.ne[1] != (uint64_t)rows) {
        load_fail(e, "tensor ", name, " has the wrong shape: expected ne = [");
        errbuf_u(e, (uint64_t)cols); errbuf_s(e, ", "); errbuf_u(e, (uint64_t)rows); errbuf_s(e, "]");
        return -1;
    }
    if (t.type != GGML_F32 && t.type != GGML_F16 && t.type != GGML_Q8_0 && t.type != GGML_Q4_0) {
        load_fail(e, "tensor ", name, " has type ");
        errbuf_s(e, gguf_type_name(t.type));
        errbuf_s(e, "; supported: F32, F16, Q8_0, Q4_0");
        return -1;
    }
    if (t.type == GGML_F32 && ((uintptr_t)t.data & 3))
        return load_fail(e, "tensor ", name, " data is not 4-byte aligned: place the GGUF at an aligned address");
    m->type = t.type;
    m->data = t.data;
    m->rows = rows;
    m->cols = cols;
    m->row_bytes = (size_t)(t.nbytes / t.ne[1]);
    m->dh = 0;
    return 0;
}

/* Hosted builds: room for slm_mat.dh of every matrix the matvecs read (the layers' and
 * the output's), whatever their types; the kernels keep none. */
static size_t scale_tables_bytes(const slm_config *c) {
#if __STDC_HOSTED__
    size_t q = (size_t)c->n_heads * c->head_dim, kv = (size_t)c->n_kv_heads * c->head_dim, d = (size_t)c->dim;
    size_t per_layer = q * d + 2 * kv * d + d * q + 3 * (size_t)c->ffn_dim * d;
    return ((size_t)c->n_layers * per_layer + (size_t)c->vocab * d) / QK * 2 + 9 * (size_t)(c->n_layers + 1) * ARENA_ALIGN;
#else
    (void)c;
    return 0;
#endif
}

static void scale_table(slm_mat *m, slm_arena *a) {
#if __STDC_HOSTED__
    if (m->type != GGML_Q8_0 && m->type != GGML_Q4_0) return;
    int nb = m->cols / QK, bsz = m->type == GGML_Q8_0 ? 34 : 18;
    uint16_t *dh = arena_alloc(a, (size_t)m->rows * nb * 2);
    if (!dh) return; /* the rows functions then read the scales from the blocks */
    for (int r = 0; r < m->rows; r++)
        for (int b = 0; b < nb; b++) dh[(size_t)r * nb + b] = rd16(m->data + (size_t)r * m->row_bytes + (size_t)b * bsz);
    m->dh = dh;
#else
    (void)m, (void)a;
#endif
}

static int get_vec(const gguf_file *f, int layer, const char *suffix, int n, const float **out, errbuf *e) {
    char name[64];
    gguf_tensor t;
    tensor_name(name, layer, suffix);
    if (!gguf_find_tensor(f, name, &t)) return load_fail(e, "tensor ", name, " is missing");
    if (t.n_dims != 1 || t.ne[0] != (uint64_t)n || t.type != GGML_F32)
        return load_fail(e, "tensor ", name, " must be a 1-D F32 vector of embedding_length");
    if ((uintptr_t)t.data & 3) return load_fail(e, "tensor ", name, " data is not 4-byte aligned");
    *out = t.data;
    return 0;
}

/* Every activation buffer and the KV cache, in bytes, in slm_state's field order;
 * state_init and model_memory both use this list so they cannot disagree. */
enum { N_BUFS = 16 };
static void state_sizes(const slm_config *c, size_t sz[N_BUFS]) {
    size_t q_dim = (size_t)c->n_heads * c->head_dim, kv_dim = (size_t)c->n_kv_heads * c->head_dim;
    size_t big = (size_t)(c->dim > c->ffn_dim ? c->dim : c->ffn_dim);
    if (q_dim > big) big = q_dim;
    size_t kv = (size_t)c->n_layers * c->ctx_len * kv_dim * 2; /* fp16 */
    size_t s[N_BUFS] = {4 * (size_t)c->dim, 4 * big, 4 * big, 4 * q_dim, 4 * kv_dim, 4 * kv_dim, 4 * big,
                        4 * big, 4 * big, 4 * (size_t)c->vocab, 2 * big, 4 * (big / QK + 1), 4 * big,
                        4 * (size_t)c->rope_dim, kv, kv};
    for (int i = 0; i < N_BUFS; i++) sz[i] = s[i];
}

size_t model_memory(const slm_config *c) {
    size_t sz[N_BUFS], total = arena_round((size_t)c->n_layers * sizeof(slm_layer)) + 2 * ARENA_ALIGN;
    state_sizes(c, sz);
    for (int i = 0; i < N_BUFS; i++) total += arena_round(sz[i]);
    return total + scale_tables_bytes(c);
}

int model_load(slm_model *m, const gguf_file *f, slm_arena *a, errbuf *e) {
    memset(m, 0, sizeof *m);
    if (model_read_config(&m->c, f, e)) return -1;
    const slm_config *c = &m->c;
    int dim = c->dim, q_dim = c->n_heads * c->head_dim, kv_dim = c->n_kv_heads * c->head_dim;


    if (get_mat(f, -1, "token_embd.weight", c->vocab, dim, &m->tok_embd, e)) return -1;
    if (get_vec(f, -1, "output_norm.weight", dim, &m->output_norm, e)) return -1;
    gguf_tensor t;
    if (gguf_find_tensor(f, "output.weight", &t)) {
        if (get_mat(f, -1, "output.weight", c->vocab, dim, &m->output, e)) return -1;
    } else {
        m->output = m->tok_embd; /* tied embeddings */
    }
    m->layers = arena_alloc(a, (size_t)c->n_layers * sizeof(slm_layer));
    if (!m->layers) return load_fail(e, "", "arena", " too small for the layer table");
    for (int l = 0; l < c->n_layers; l++) {
        slm_layer *L = &m->layers[l];
        if (get_vec(f, l, "attn_norm.weight", dim, &L->attn_norm, e) ||
            get_mat(f, l, "attn_q.weight", q_dim, dim, &L->wq, e) ||
            get_mat(f, l, "attn_k.weight", kv_dim, dim, &L->wk, e) ||
            get_mat(f, l, "attn_v.weight", kv_dim, dim, &L->wv, e) ||
            get_mat(f, l, "attn_output.weight", dim, q_dim, &L->wo, e) ||
            get_vec(f, l, "ffn_norm.weight", dim, &L->ffn_norm, e) ||
            get_mat(f, l, "ffn_gate.weight", c->ffn_dim, dim, &L->w_gate, e) ||
            get_mat(f, l, "ffn_up.weight", c->ffn_dim, dim, &L->w_up, e) ||
            get_mat(f, l, "ffn_down.weight", dim, c->ffn_dim, &L->w_down, e))
            return -1;
    }
    for (int l = 0; l < c->n_layers; l++) {
        slm_layer *L = &m->layers[l];
        slm_mat *ms[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (int i = 0; i < 7; i++) scale_table(ms[i], a);
    }
    scale_table(&m->output, a);
    m->weight_type = m->layers[0].wq.type;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor_at(f, i, &t);
        m->weight_bytes += t.nbytes;
    }
    return 0;
}

int state_init(slm_state *s, const slm_config *c, slm_arena *a) {
    void **bufs[N_BUFS] = {(void **)&s->x, (void **)&s->xb, (void **)&s->xb2, (void **)&s->q, (void **)&s->k,
                           (void **)&s->v, (void **)&s->att, (void **)&s->hb, (void **)&s->hb2,
                           (void **)&s->logits, (void **)&s->aq, (void **)&s->ad, (void **)&s->xh,
                           (void **)&s->rope_cs, (void **)&s->k_cache, (void **)&s->v_cache};
    size_t sz[N_BUFS];
    state_sizes(c, sz);
    for (int i = 0; i < N_BUFS; i++)
        if (!(*bufs[i] = arena_alloc(a, sz[i]))) return -1;
    return 0;
}
