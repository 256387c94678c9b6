// slm-train: trains the llama model of config.json on train.bin, and serves the eval stage.
//
//   slm-train --config config.json --train train.bin --val val.bin --out DIR
//             [--resume | --init-from model.safetensors] [--stop-at N] [--threads N] [--log-every N]
//       writes DIR/model.safetensors, DIR/train_state.safetensors (weights + AdamW state,
//       for --resume) and DIR/train_log.jsonl; prints `auton:progress {json}` lines.
//       --init-from starts from another run's weights (same architecture) with fresh AdamW
//       state and this config's schedule: continued training, where --resume only finishes
//       the run that was interrupted.
//   slm-train --eval --ckpt model.safetensors --val val.bin [--max-tokens N]
//       prints {"val_loss":..,"ppl":..,"tokens":..}: per-token loss over windows of seq_len.
//   slm-train --generate --ckpt model.safetensors [--n 32] [--stop ID]
//       reads prompts as lines of token ids on stdin, prints greedy continuations (ids).
//   slm-train --gradcheck   analytic vs numerical gradients on a tiny model; exit 1 on mismatch.
#include "adamw.h"
#include "config.h"
#include "data.h"
#include "gradcheck.h"
#include "infer.h"
#include "json.h"
#include "model.h"
#include "safetensors.h"
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char err[1024];

static void die(const char *msg) {
    fprintf(stderr, "slm-train: %s\n", msg);
    exit(2);
}

static char *read_text(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) { snprintf(err, sizeof err, "cannot open %s", path); die(err); }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc(n + 1);
    s[fread(s, 1, n, fp)] = 0;
    fclose(fp);
    return s;
}

// config.json without whitespace outside strings, for the checkpoint's metadata.
static char *compact_json(const char *s) {
    char *out = malloc(strlen(s) + 1), *o = out;
    int in_str = 0;
    for (; *s; s++) {
        if (in_str) {
            *o++ = *s;
            if (*s == '\\' && s[1]) *o++ = *++s;
            else if (*s == '"') in_str = 0;
        } else if (*s == '"') { in_str = 1; *o++ = *s; }
        else if (*s != ' ' && *s != '\n' && *s != '\r' && *s != '\t') *o++ = *s;
    }
    *o = 0;
    return out;
}

static const char *arg_str(int argc, char **argv, const char *flag, const char *def) {
    for (int i = 1; i < argc - 1; i++) if (!strcmp(argv[i], flag)) return argv[i + 1];
    return def;
}
static int arg_flag(int argc, char **argv, const char *flag) {
    for (int i = 1; i < argc; i++) if (!strcmp(argv[i], flag)) return 1;
    return 0;
}

// ---- checkpoints ----------------------------------------------------------------------

static void save_model(Model *m, const char *path, const char *config_json, int step, const AdamW *opt) {
    int n = m->n_tensors * (opt ? 3 : 1);
    StEntry *e = calloc(n, sizeof *e);
    char (*names)[64] = calloc(n, 64);
    for (int i = 0; i < m->n_tensors; i++) {
        Tensor *t = &m->t[i];
        for (int k = 0; k < (opt ? 3 : 1); k++) {
            StEntry *x = &e[k * m->n_tensors + i];
            const float *base = k == 0 ? m->params : k == 1 ? opt->m : opt->v;
            snprintf(names[k * m->n_tensors + i], 64, "%s%s", k == 0 ? "" : k == 1 ? "adam_m." : "adam_v.", t->name);
            x->name = names[k * m->n_tensors + i];
            x->ndim = t->ndim; x->shape[0] = t->shape[0]; x->shape[1] = t->shape[1];
            x->data = base + t->offset;
        }
    }
    char stepbuf[32];
    snprintf(stepbuf, sizeof stepbuf, "%d", step);
    const char *keys[] = {"config", "step", "format"}, *vals[] = {config_json, stepbuf, "pt"};
    if (st_save(path, e, n, keys, vals, 3, err, sizeof err)) die(err);
    free(e); free(names);
}

// Loads weights (and AdamW state if opt) from a checkpoint; returns its step.
static int load_weights(Model *m, StFile *f, AdamW *opt) {
    char name[96];
    for (int i = 0; i < m->n_tensors; i++) {
        Tensor *t = &m->t[i];
        if (st_read(f, t->name, m->params + t->offset, t->size, err, sizeof err)) die(err);
        if (!opt) continue;
        snprintf(name, sizeof name, "adam_m.%s", t->name);
        if (st_read(f, name, opt->m + t->offset, t->size, err, sizeof err)) die(err);
        snprintf(name, sizeof name, "adam_v.%s", t->name);
        if (st_read(f, name, opt->v + t->offset, t->size, err, sizeof err)) die(err);
    }
    char buf[32];
    return st_meta(f, "step", buf, sizeof buf) > 0 ? atoi(buf) : 0;
}

// Opens a checkpoint and builds the model its metadata describes.
static void open_checkpoint(const char *path, Model *m, StFile *f, int B, int T) {
    if (st_open(f, path, err, sizeof err)) die(err);
    size_t cap = 1 << 20;
    char *cfg = malloc(cap);
    if (st_meta(f, "config", cfg, cap) < 0) {
        snprintf(err, sizeof err, "%s: no __metadata__.config (not written by slm-train?)", path);
        die(err);
    }
    Config c;
    if (config_parse(&c, cfg, err, sizeof err)) die(err);
    if (model_init(m, &c, B > 0 ? B : c.batch_size, T > 0 ? T : c.seq_len)) die("out of memory");
    load_weights(m, f, NULL);
    free(cfg);
}

// ---- evaluation -------------------------------------------------------------------------

// Mean per-token loss over the first max_windows windows of seq_len (all if max_windows=0).
static double eval_loss(Model *m, const Tokens *val, size_t max_windows, size_t *ntok) {
    int B = m->B, T = m->T;
    uint16_t *buf = malloc((size_t)B * (T + 1) * 2);
    double sum = 0;
    size_t count = 0, w = 0;
    for (;;) {
        int b = 0;
        while (b < B && (!max_windows || w < max_windows) && batch_window(val, buf + (size_t)b * (T + 1), T, w)) { b++; w++; }
        if (b == 0) break;
        sum += model_forward(m, buf, b, T, 0) * b * T;
        count += (size_t)b * T;
        if (b < B) break;
    }
    free(buf);
    *ntok = count;
    return count ? sum / count : NAN;
}

static int cmd_eval(int argc, char **argv) {
    const char *ckpt = arg_str(argc, argv, "--ckpt", NULL), *valp = arg_str(argc, argv, "--val", NULL);
    if (!ckpt || !valp) die("--eval needs --ckpt FILE and --val FILE");
    Model m;
    StFile f;
    open_checkpoint(ckpt, &m, &f, 0, 0);
    Tokens val;
    if (tokens_load(&val, valp, m.c.vocab_size, err, sizeof err)) die(err);
    long max_tokens = atol(arg_str(argc, argv, "--max-tokens", "0"));
    size_t windows = max_tokens > 0 ? (size_t)(max_tokens + m.T - 1) / m.T : 0, ntok;
    if (val.n < (size_t)m.T + 1) die("validation file is shorter than one seq_len window");
    double loss = eval_loss(&m, &val, windows, &ntok);
    printf("{\"val_loss\":%.6f,\"ppl\":%.4f,\"tokens\":%zu}\n", loss, exp(loss), ntok);
    return 0;
}

static int cmd_generate(int argc, char **argv) {
    const char *ckpt = arg_str(argc, argv, "--ckpt", NULL);
    if (!ckpt) die("--generate needs --ckpt FILE");
    int n = atoi(arg_str(argc, argv, "--n", "32")), stop = atoi(arg_str(argc, argv, "--stop", "-1"));
    Model m;
    StFile f;
    open_checkpoint(ckpt, &m, &f, 1, 2);
    Infer s;
    if (infer_init(&s, &m, m.c.seq_len)) die("out of memory");
    static char line[1 << 16];
    int ids[4096];
    while (fgets(line, sizeof line, stdin)) {
        int len = 0;
        for (char *p = strtok(line, " \t\r\n"); p && len < 4096; p = strtok(NULL, " \t\r\n")) ids[len++] = atoi(p);
        if (len == 0) { printf("\n"); fflush(stdout); continue; }
        const float *logits = NULL;
        int pos = 0;
        for (; pos < len && pos < s.max_pos; pos++) {
            if (ids[pos] < 0 || ids[pos] >= m.c.vocab_size) die("prompt token id out of vocabulary");
            logits = infer_step(&s, ids[pos], pos);
        }
        for (int i = 0; i < n && logits; i++) {
            int best = 0;
            for (int j = 1; j < m.c.vocab_size; j++) if (logits[j] > logits[best]) best = j;
            printf(i ? " %d" : "%d", best);
            if (best == stop || pos >= s.max_pos) break;
            logits = infer_step(&s, best, pos++);
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}

// ---- training ---------------------------------------------------------------------------

// Keeps only log lines with "step" <= step (a resumed run rewrites what came after).
static void truncate_log(const char *path, int step) {
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    char tmp[4200], line[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    while (fgets(line, sizeof line, fp)) {
        const char *v = json_find(line, "step");
        if (v && atoi(v) <= step) fputs(line, out);
    }
    fclose(fp);
    fclose(out);
    rename(tmp, path);
}

// Same tensors: weights of one load into a model of the other.
static int same_arch(const Config *a, const Config *b) {
    return a->vocab_size == b->vocab_size && a->dim == b->dim && a->n_layers == b->n_layers &&
           a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads && a->ffn_dim == b->ffn_dim;
}

// Same run: --resume continues it bit-identically.
static int same_shape(const Config *a, const Config *b) {
    return same_arch(a, b) && a->seq_len == b->seq_len && a->batch_size == b->batch_size && a->steps == b->steps;
}

static int cmd_train(int argc, char **argv) {
    const char *cfgp = arg_str(argc, argv, "--config", NULL), *trainp = arg_str(argc, argv, "--train", NULL);
    const char *valp = arg_str(argc, argv, "--val", NULL), *outd = arg_str(argc, argv, "--out", NULL);
    if (!cfgp || !trainp || !valp || !outd)
        die("usage: slm-train --config config.json --train train.bin --val val.bin --out DIR [--resume]\n"
            "       slm-train --eval | --generate | --gradcheck  (see the top of SLM/train/main.c)");
    char *cfg_text = read_text(cfgp), *cfg_json = compact_json(cfg_text);
    Config c;
    if (config_parse(&c, cfg_text, err, sizeof err)) die(err);
    int stop_at = atoi(arg_str(argc, argv, "--stop-at", "0"));
    int log_every = atoi(arg_str(argc, argv, "--log-every", "10"));
    if (log_every < 1) log_every = 1;
    if (mkdir(outd, 0777) && errno != EEXIST) { snprintf(err, sizeof err, "cannot create %s", outd); die(err); }
    char model_path[4096], state_path[4096], log_path[4096];
    snprintf(model_path, sizeof model_path, "%s/model.safetensors", outd);
    snprintf(state_path, sizeof state_path, "%s/train_state.safetensors", outd);
    snprintf(log_path, sizeof log_path, "%s/train_log.jsonl", outd);

    Tokens train, val;
    if (tokens_load(&train, trainp, c.vocab_size, err, sizeof err)) die(err);
    if (tokens_load(&val, valp, c.vocab_size, err, sizeof err)) die(err);
    if (train.n < (size_t)c.seq_len + 2 || val.n < (size_t)c.seq_len + 1)
        die("train.bin / val.bin hold fewer tokens than one seq_len window");
    Model m;
    AdamW opt;
    int B = c.batch_size, T = c.seq_len;
    if (model_init(&m, &c, B, T) || adamw_init(&opt, m.n_params)) die("out of memory");

    int step = 0;
    struct stat st;
    const char *init_from = arg_str(argc, argv, "--init-from", NULL);
    if (arg_flag(argc, argv, "--resume") && stat(state_path, &st) == 0) {
        StFile f;
        if (st_open(&f, state_path, err, sizeof err)) die(err);
        char *old = malloc(1 << 20);
        Config oc;
        if (st_meta(&f, "config", old, 1 << 20) < 0 || config_parse(&oc, old, err, sizeof err) || !same_shape(&oc, &c))
            die("--resume: the checkpoint's config differs from --config (shape, batch or steps); "
                "delete train_state.safetensors to start over");
        step = load_weights(&m, &f, &opt);
        st_close(&f);
        free(old);
        truncate_log(log_path, step);
        fprintf(stderr, "slm-train: resumed from %s at step %d\n", state_path, step);
    } else if (init_from) {
        StFile f;
        if (st_open(&f, init_from, err, sizeof err)) die(err);
        char *old = malloc(1 << 20);
        Config oc;
        if (st_meta(&f, "config", old, 1 << 20) < 0 || config_parse(&oc, old, err, sizeof err) || !same_arch(&oc, &c)) {
            snprintf(err, sizeof err, "--init-from %s: not an slm-train checkpoint of this architecture", init_from);
            die(err);
        }
        load_weights(&m, &f, NULL);
        st_close(&f);
        free(old);
        fclose(fopen(log_path, "w"));
        fprintf(stderr, "slm-train: weights from %s, fresh optimizer, %d steps\n", init_from, c.steps);
    } else {
        model_init_weights(&m, c.seed, 0.02f);
        fclose(fopen(log_path, "w"));
    }
    FILE *logf = fopen(log_path, "a");
    if (!logf) die("cannot write train_log.jsonl");
    printf("auton:progress {\"step\":%d,\"steps\":%d,\"params\":%zu,\"threads\":%d}\n", step, c.steps,
           m.n_params, omp_get_max_threads());
    fflush(stdout);

    uint16_t *batch = malloc((size_t)B * (T + 1) * 2);
    size_t ntok;
    if (step == 0) {
        double vl = eval_loss(&m, &val, (size_t)c.eval_batches * B, &ntok);
        fprintf(logf, "{\"step\":0,\"val_loss\":%.6f,\"lr\":0}\n", vl);
        fflush(logf);
    }
    double t_compute = 0, loss_sum = 0;   // tokens/s counts training compute only
    int loss_n = 0, steps_since = 0;
    while (step < c.steps) {
        double t0 = omp_get_wtime();
        batch_sample(&train, batch, B, T, c.seed, step);
        double loss = model_forward(&m, batch, B, T, 1);
        model_backward(&m, batch, B, T);
        float norm = clip_grad_norm(&m, c.grad_clip), lr = lr_at(&c, step);
        adamw_step(&m, &opt, step, lr);
        step++;
        t_compute += omp_get_wtime() - t0;
        loss_sum += loss; loss_n++; steps_since++;
        if (!isfinite(loss)) die("loss is not finite (lower lr?)");
        int do_eval = step % c.eval_every == 0 || step == c.steps;
        if (step % log_every == 0 || do_eval || step == stop_at) {
            double tok_s = steps_since * (double)B * T / t_compute;
            fprintf(logf, "{\"step\":%d,\"loss\":%.6f,\"lr\":%.6g,\"grad_norm\":%.4f,\"tokens_per_s\":%.1f",
                    step, loss_sum / loss_n, lr, norm, tok_s);
            if (do_eval) fprintf(logf, ",\"val_loss\":%.6f", eval_loss(&m, &val, (size_t)c.eval_batches * B, &ntok));
            fprintf(logf, "}\n");
            fflush(logf);
            printf("auton:progress {\"step\":%d,\"steps\":%d,\"loss\":%.4f,\"lr\":%.3g,\"tok_s\":%.0f}\n",
                   step, c.steps, loss_sum / loss_n, lr, tok_s);
            fflush(stdout);
            loss_sum = 0; loss_n = 0; steps_since = 0; t_compute = 0;
        }
        if (step % c.ckpt_every == 0 || step == c.steps || step == stop_at) {
            save_model(&m, state_path, cfg_json, step, &opt);
            save_model(&m, model_path, cfg_json, step, NULL);
        }
        if (step == stop_at) break;
    }
    fclose(logf);
    free(batch);
    return 0;
}

int main(int argc, char **argv) {
    const char *threads = arg_str(argc, argv, "--threads", NULL);
    if (threads) omp_set_num_threads(atoi(threads));
    if (arg_flag(argc, argv, "--gradcheck")) return gradcheck(atof(arg_str(argc, argv, "--tol", "1e-2")));
    if (arg_flag(argc, argv, "--eval")) return cmd_eval(argc, argv);
    if (arg_flag(argc, argv, "--generate")) return cmd_generate(argc, argv);
    return cmd_train(argc, argv);
}
