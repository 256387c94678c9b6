#include "config.h"
#include "json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get_num(const char *json, const char *key, double *out, int required, char *err, size_t errlen) {
    const char *v = json_find(json, key);
    if (!v) {
        if (required) snprintf(err, errlen, "config: missing numeric key \"%s\"", key);
        return required ? -1 : 1;
    }
    char *end;
    *out = strtod(v, &end);
    if (end == v) {
        snprintf(err, errlen, "config: key \"%s\" is not a number", key);
        return -1;
    }
    return 0;
}

int config_parse(Config *c, const char *json, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    double x;
    const char *nm = json_find(json, "name");
    if (nm && *nm == '"') {
        size_t i = 0;
        for (nm++; *nm && *nm != '"' && i + 1 < sizeof c->name; nm++) c->name[i++] = *nm;
    }
#define REQ(field, key) do { if (get_num(json, key, &x, 1, err, errlen)) return -1; c->field = x; } while (0)
#define OPT(field, key, def) do { int r_ = get_num(json, key, &x, 0, err, errlen); if (r_ < 0) return -1; c->field = r_ ? (def) : x; } while (0)
    REQ(vocab_size, "vocab_size"); REQ(dim, "dim"); REQ(n_layers, "n_layers");
    REQ(n_heads, "n_heads"); REQ(n_kv_heads, "n_kv_heads"); REQ(ffn_dim, "ffn_dim");
    REQ(seq_len, "seq_len");
    OPT(rope_theta, "rope_theta", 10000.0f); OPT(norm_eps, "norm_eps", 1e-5f);
    OPT(batch_size, "batch_size", 16); OPT(steps, "steps", 1000); OPT(lr, "lr", 3e-3f);
    OPT(min_lr, "min_lr", c->lr * 0.1f); OPT(warmup, "warmup", 100);
    OPT(weight_decay, "weight_decay", 0.1f); OPT(beta1, "beta1", 0.9f); OPT(beta2, "beta2", 0.95f);
    OPT(grad_clip, "grad_clip", 1.0f); OPT(seed, "seed", 1337); OPT(eval_every, "eval_every", 200);
    OPT(ckpt_every, "ckpt_every", 500); OPT(eval_batches, "eval_batches", 8);
#undef REQ
#undef OPT
    return config_validate(c, err, errlen);
}

int config_validate(const Config *c, char *err, size_t errlen) {
#define CHECK(cond, ...) do { if (!(cond)) { snprintf(err, errlen, "config: " __VA_ARGS__); return -1; } } while (0)
    CHECK(c->vocab_size > 1 && c->vocab_size <= 65536, "vocab_size %d must be in 2..65536 (token ids are uint16)", c->vocab_size);
    CHECK(c->dim > 0 && c->n_layers > 0 && c->ffn_dim > 0 && c->seq_len > 1, "dim, n_layers, ffn_dim must be > 0 and seq_len > 1");
    CHECK(c->n_heads > 0 && c->dim % c->n_heads == 0, "dim %d must be divisible by n_heads %d", c->dim, c->n_heads);
    CHECK((c->dim / c->n_heads) % 2 == 0, "head_dim %d (dim/n_heads) must be even for RoPE", c->dim / c->n_heads);
    CHECK(c->n_kv_heads > 0 && c->n_heads % c->n_kv_heads == 0, "n_heads %d must be a multiple of n_kv_heads %d", c->n_heads, c->n_kv_heads);
    CHECK(c->batch_size > 0 && c->steps >= 0, "batch_size must be > 0 and steps >= 0");
    return 0;
#undef CHECK
}
