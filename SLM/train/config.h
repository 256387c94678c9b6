// Model and training hyperparameters, parsed from config.json (see SLM/tools/config.ts).
#pragma once
#include <stddef.h>

typedef struct {
    char name[64];
    int vocab_size, dim, n_layers, n_heads, n_kv_heads, ffn_dim, seq_len;
    float rope_theta, norm_eps;
    // training
    int batch_size, steps, warmup, eval_every, ckpt_every, eval_batches;
    unsigned long long seed;
    float lr, min_lr, weight_decay, beta1, beta2, grad_clip;
} Config;

// Parses the flat keys of a config.json text (nested "train" keys are looked up by name,
// they are unique). Returns 0 on success, else writes a message into err.
int config_parse(Config *c, const char *json, char *err, size_t errlen);
// Checks the shape rules every other stage relies on. Returns 0 if valid.
int config_validate(const Config *c, char *err, size_t errlen);
