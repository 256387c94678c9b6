/* slm.c — the public API (slm.h) over gguf + tokenizer + model + sample. */
#include "slm.h"
#include "gguf.h"
#include "model.h"
#include "tokenizer.h"
#include "sample.h"
#include "arena.h"
#include "errbuf.h"
#include "klib.h"

static struct {
    int loaded;
    gguf_file file;
    slm_model model;
    slm_tokenizer tok;
    slm_state state;
    int *tokens;     /* prompt buffer */
    int max_tokens;  /* its capacity */
    uint64_t n_params;
    gguf_str name;
    gguf_str prov, prov_subject; /* auton.provenance.* (specs/export.md); len 0 if absent */
} g;

static int prompt_capacity(const slm_config *c) { return 4 * c->ctx_len + 64; }

size_t slm_arena_bytes(const uint8_t *buf, size_t len) {
    gguf_file f;
    slm_config c;
    char err[8];
    errbuf e = errbuf_init(err, sizeof err);
    if (gguf_open(&f, buf, len, err, sizeof err) != 0 || model_read_config(&c, &f, &e) != 0) return 0;
    size_t t = tok_memory(&f);
    if (!t) return 0;
    return t + model_memory(&c) + arena_round((size_t)prompt_capacity(&c) * sizeof(int)) + ARENA_ALIGN;
}

int slm_load(const uint8_t *buf, size_t len, void *arena, size_t arena_len, char *err, size_t errlen) {
    errbuf e = errbuf_init(err, errlen);
    slm_arena a = {(uint8_t *)arena, arena_len, 0};
    g.loaded = 0;
    if (gguf_open(&g.file, buf, len, err, errlen) != 0) return -1;
    if (model_load(&g.model, &g.file, &a, &e) != 0) return -1;
    if (tok_load(&g.tok, &g.file, &a, &e) != 0) return -1;
    if (g.tok.n_vocab != g.model.c.vocab) {
        errbuf_s(&e, "slm: tokenizer has ");
        errbuf_u(&e, (uint64_t)g.tok.n_vocab);
        errbuf_s(&e, " tokens but token_embd.weight has ");
        errbuf_u(&e, (uint64_t)g.model.c.vocab);
        errbuf_s(&e, " rows; re-export the GGUF");
        return -1;
    }
    g.max_tokens = prompt_capacity(&g.model.c);
    g.tokens = arena_alloc(&a, (size_t)g.max_tokens * sizeof(int));
    if (!g.tokens || state_init(&g.state, &g.model.c, &a) != 0) {
        errbuf_s(&e, "slm: arena of ");
        errbuf_u(&e, arena_len);
        errbuf_s(&e, " bytes is too small; slm_arena_bytes() says ");
        errbuf_u(&e, slm_arena_bytes(buf, len));
        return -1;
    }
    g.n_params = 0;
    for (uint64_t i = 0; i < g.file.n_tensors; i++) {
        gguf_tensor t;
        gguf_tensor_at(&g.file, i, &t);
        g.n_params += t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
    }
    if (gguf_get_str(&g.file, "general.name", &g.name) != 0) g.name = (gguf_str){"unnamed", 7};
    if (gguf_get_str(&g.file, "auton.provenance.sha256", &g.prov) != 0) g.prov = (gguf_str){"", 0};
    if (gguf_get_str(&g.file, "auton.provenance.subject", &g.prov_subject) != 0) g.prov_subject = (gguf_str){"", 0};
    g.loaded = 1;
    return 0;
}

void slm_info(slm_print_fn print) {
    char line[160];
    errbuf e;
    if (!g.loaded) { print("SLM: no model loaded"); return; }
    const slm_config *c = &g.model.c;
    e = errbuf_init(line, sizeof line);
    errbuf_s(&e, "SLM: model ");
    errbuf_n(&e, g.name.ptr, g.name.len > 40 ? 40 : (size_t)g.name.len);
    errbuf_s(&e, ": llama, ");
    errbuf_s(&e, gguf_type_name(g.model.weight_type));
    errbuf_s(&e, ", ");
    errbuf_u(&e, g.n_params);
    errbuf_s(&e, " parameters, ");
    errbuf_u(&e, g.model.weight_bytes);
    errbuf_s(&e, " bytes of tensors");
    print(line);
    e = errbuf_init(line, sizeof line);
    errbuf_s(&e, "SLM: dim ");
    errbuf_u(&e, (uint64_t)c->dim);
    errbuf_s(&e, ", layers ");
    errbuf_u(&e, (uint64_t)c->n_layers);
    errbuf_s(&e, ", heads ");
    errbuf_u(&e, (uint64_t)c->n_heads);
    errbuf_s(&e, " (kv ");
    errbuf_u(&e, (uint64_t)c->n_kv_heads);
    errbuf_s(&e, "), ffn ");
    errbuf_u(&e, (uint64_t)c->ffn_dim);
    errbuf_s(&e, ", vocab ");
    errbuf_u(&e, (uint64_t)c->vocab);
    errbuf_s(&e, ", context ");
    errbuf_u(&e, (uint64_t)c->ctx_len);
    print(line);
    /* the digest of the provenance statement the GGUF was exported with; the boot report
     * compares it with the build's record (rules/qemu-report.ts) */
    e = errbuf_init(line, sizeof line);
    if (g.prov.len) {
        errbuf_s(&e, "SLM: provenance sha256:");
        errbuf_n(&e, g.prov.ptr, g.prov.len > 64 ? 64 : (size_t)g.prov.len);
        if (g.prov_subject.len) {
            errbuf_s(&e, " of ");
            errbuf_n(&e, g.prov_subject.ptr, g.prov_subject.len > 64 ? 64 : (size_t)g.prov_subject.len);
        }
    } else {
        errbuf_s(&e, "SLM: provenance: none recorded in the GGUF");
    }
    print(line);
}

int slm_generate(const char *prompt, int max_tokens, int topk, uint64_t seed, slm_token_fn cb, void *user,
                 slm_result *res, char *err, size_t errlen) {
    errbuf e = errbuf_init(err, errlen);
    slm_result r = {0, 0, 0, 0};
    if (res) *res = r;
    if (!g.loaded) { errbuf_s(&e, "slm: no model loaded"); return -1; }
    const slm_config *c = &g.model.c;
    int n = tok_encode(&g.tok, prompt, strlen(prompt), g.tok.add_bos, g.tokens, g.max_tokens);
    if (n < 0 || n > c->ctx_len) {
        errbuf_s(&e, "slm: prompt too long: the context holds ");
        errbuf_u(&e, (uint64_t)c->ctx_len);
        errbuf_s(&e, " tokens");
        return -1;
    }
    if (n == 0) {
        if (g.tok.bos < 0) { errbuf_s(&e, "slm: empty prompt and the model has no BOS token"); return -1; }
        g.tokens[n++] = g.tok.bos;
    }
    slm_rng rng;
    rng_seed(&rng, seed);
    const float *logits = 0;
    for (int i = 0; i < n; i++) logits = model_forward(&g.model, &g.state, g.tokens[i], i);
    r.n_prompt = n;
    int pos = n;
    char piece[1024]; /* tok_load refuses longer tokens */
    while (r.n_generated < max_tokens) {
        int next = topk > 1 ? sample_topk(logits, c->vocab, topk, &rng) : sample_greedy(logits, c->vocab);
        r.n_generated++;
        size_t len = next == g.tok.eos ? 0 : tok_decode(&g.tok, next, piece);
        if (cb && cb(next, piece, len, user)) break;
        if (next == g.tok.eos) { r.hit_eos = 1; break; }
        if (pos >= c->ctx_len) { r.hit_ctx = 1; break; }
        logits = model_forward(&g.model, &g.state, next, pos++);
    }
    if (res) *res = r;
    return 0;
}

int slm_tokenize(const char *text, size_t len, int add_bos, int *out, int max_out) {
    return g.loaded ? tok_encode(&g.tok, text, len, add_bos, out, max_out) : -1;
}

size_t slm_token_bytes(int id, char *buf, size_t cap) {
    if (!g.loaded || id < 0 || id >= g.tok.n_vocab || g.tok.len[id] > cap) return 0;
    return tok_decode(&g.tok, id, buf);
}

const float *slm_eval(int token, int pos) {
    if (!g.loaded || token < 0 || token >= g.model.c.vocab || pos < 0 || pos >= g.model.c.ctx_len) return 0;
    return model_forward(&g.model, &g.state, token, pos);
}

int slm_vocab_size(void) { return g.loaded ? g.model.c.vocab : 0; }
int slm_context_length(void) { return g.loaded ? g.model.c.ctx_len : 0; }
int slm_bos(void) { return g.loaded ? g.tok.bos : -1; }
int slm_eos(void) { return g.loaded ? g.tok.eos : -1; }
int slm_add_bos(void) { return g.loaded ? g.tok.add_bos : 0; }
