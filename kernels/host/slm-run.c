/* slm-run — run the kernels' inference core (kernels/inference) on the host.
 *
 *   slm-run MODEL.gguf --prompt "PCI device 8086:10d3 is" [--n 32] [--greedy]
 *           [--topk K --seed S] [--ids]
 *       prints the completion; with --ids also a line of the generated token ids
 *   slm-run MODEL.gguf --prompt TEXT --tokenize
 *       prints the prompt's token ids (the model's tokenizer; BOS if it wants one)
 *   slm-run MODEL.gguf --prompt TEXT --logits
 *       prints the logits after each prompt token: one line of vocab floats (%.9g) per token
 *   slm-run MODEL.gguf --ppl FILE.txt [--max-tokens N]
 *       prints {"ppl":..., "nll":..., "tokens":..., ...} for the text in FILE
 *   slm-run ... --f32-kv
 *       keeps K/V and the attention arithmetic in F32 instead of llama.cpp's fp16
 *       (model_set_f32_kv, host only): exact float32 math, what the ONNX export is checked
 *       against (test/SLM/onnx.test.ts); the default fp16 path is what the kernels compute
 *   slm-run ... --portable
 *       runs the portable reference dot products and none of the host-only fast paths
 *       (the same answers by construction; the tests check that on whole generations)
 *   slm-run --selfcheck
 *       runs every dot-product path this CPU has against the portable reference
 *       (kernels/inference/dot.h) and prints which path the forward pass uses
 *
 * Timing goes to stderr (SLM_INFO=1 also prints the model description). The GGUF
 * is read into memory and used in place, exactly as the kernels use their
 * embedded copy, on huge pages where the kernel gives them. Build as the pipeline does
 * (kernels/tools/kbuild.ts slmRunArgs; -ffp-contract=off keeps the floats the kernels'):
 *
 *   gcc -O2 -ffp-contract=off -Ikernels/inference -o build/slm-run kernels/host/slm-run.c \
 *     kernels/inference/<each .c file> -lm
 *
 * The AVX2 / AVX-512 paths are compiled in with target attributes and chosen at run time.
 * Single-threaded (-fopenmp would split the one-row-at-a-time loops in model.c by rows).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#include "../inference/slm.h"
#include "../inference/dot.h"
#include "../inference/gguf.h"
#include "../inference/model.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "slm-run: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    exit(2);
}

/* Whole file into memory (F32 tensors need aligned data), on 2 MiB pages where the
 * kernel gives them (transparent huge pages, asked for with madvise): a decode step
 * streams every weight once, and on 4 KiB pages the hardware prefetchers stop at each
 * page boundary (tiny_10M F32 is 35 MB a token). */
static unsigned char *read_file(const char *path, size_t *len, int is_gguf) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) die("cannot size %s%s", path, "");
    size_t huge = (size_t)2 << 20, cap = ((size_t)n + 64 + huge) / huge * huge;
    unsigned char *buf = aligned_alloc(huge, cap);
#ifdef MADV_HUGEPAGE
    if (buf) madvise(buf, cap, MADV_HUGEPAGE);
#endif
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read %s%s", path, "");
    fclose(f);
    /* A GGUF's tensor data is aligned to 32 bytes in the file; shifted so that it starts
     * on a cache line, a 64-byte load never spans two lines (1.7x on F32 weights). */
    gguf_file g;
    char err[8];
    if (is_gguf && gguf_open(&g, buf, (size_t)n, err, sizeof err) == 0 && g.data_off % 64) {
        size_t shift = 64 - g.data_off % 64;
        memmove(buf + shift, buf, (size_t)n);
        buf += shift;
    }
    *len = (size_t)n;
    return buf;
}

static void print_line(const char *line) { fprintf(stderr, "%s\n", line); }

typedef struct {
    int ids[8192];
    int n;
    double t_first, t_last; /* when the first and the latest token came out */
} generated;


static int on_token(int id, const char *piece, size_t len, void *user) {
    generated *g = user;
    g->t_last = now_s();
    if (g->n == 0) g->t_first = g->t_last;
    if (g->n < 8192) g->ids[g->n++] = id;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static int run_ppl(const char *path, long max_tokens) {
    size_t len;
    char *text = (char *)read_file(path, &len, 0);
    int *toks = malloc((len + 2) * sizeof(int));
    int n = slm_tokenize(text, len, 0, toks, (int)len + 2);
    if (n < 0) die("cannot tokenize %s%s", path, "");
    if (max_tokens > 0 && n > max_tokens) n = (int)max_tokens;
    int ctx = slm_context_length(), vocab = slm_vocab_size(), bos = slm_bos(), use_bos = slm_add_bos() && bos >= 0;
    double nll = 0.0, t0 = now_s();
    long scored = 0, chunks = 0, evaluated = 0;
    /* Independent chunks of ctx tokens (BOS first if the model wants one); every
     * token after the first of a chunk is scored given its prefix. */
    int per_chunk = ctx - use_bos;
    for (int start = 0; start + 1 < n; start += per_chunk) {
        int m = n - start < per_chunk ? n - start : per_chunk;
        int pos = 0;
        const float *logits = NULL;
        if (use_bos) logits = slm_eval(bos, pos++);
        for (int i = 0; i < m; i++) {
            int tok = toks[start + i];
            if (logits && i > 0) {
                double max = logits[0], sum = 0.0;
                for (int v = 1; v < vocab; v++) if (logits[v] > max) max = logits[v];
                for (int v = 0; v < vocab; v++) sum += exp((double)logits[v] - max);
                nll += -((double)logits[tok] - max - log(sum));
                scored++;
            }
            logits = slm_eval(tok, pos++);
            evaluated++;
        }
        chunks++;
    }
    double dt = now_s() - t0;
    if (!scored) die("%s has too few tokens to score%s", path, "");
    printf("{\"ppl\":%.4f,\"nll\":%.6f,\"tokens\":%ld,\"chunks\":%ld,\"ctx\":%d,\"seconds\":%.3f,\"tokens_per_s\":%.1f}\n",
           exp(nll / scored), nll / scored, scored, chunks, ctx, dt, evaluated / dt);
    free(toks);
    free(text);
    return 0;
}

static int selfcheck(void) {
    const char *bad = "";
    long n = dot_selfcheck(&bad);
    const dot_impl *all[8];
    int k = dot_impls(all, 8);
    if (n < 0) {
        printf("selfcheck: %s differs from portable\n", bad);
        return 1;
    }
    printf("selfcheck: %ld results bit-identical across", n);
    for (int i = 0; i < k; i++) printf(" %s", all[i]->name);
    printf("; using %s\n", dot_best()->name);
    long m = model_selfcheck(&bad);
    if (m < 0) {
        printf("selfcheck: %s differs from portable\n", bad);
        return 1;
    }
    if (m) printf("selfcheck: %ld forward-pass values (expf, SwiGLU, attention) bit-identical to portable\n", m);
    return 0;
}

int main(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *ppl = NULL;
    long n = 32, topk = 0, max_tokens = 0;
    unsigned long long seed = 0;
    int want_ids = 0, tokenize = 0, want_logits = 0, f32_kv = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--prompt") && has) prompt = argv[++i];
        else if (!strcmp(a, "--n") && has) n = strtol(argv[++i], NULL, 10);
        else if (!strcmp(a, "--topk") && has) topk = strtol(argv[++i], NULL, 10);
        else if (!strcmp(a, "--seed") && has) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--ppl") && has) ppl = argv[++i];
        else if (!strcmp(a, "--max-tokens") && has) max_tokens = strtol(argv[++i], NULL, 10);
        else if (!strcmp(a, "--greedy")) topk = 0;
        else if (!strcmp(a, "--ids")) want_ids = 1;
        else if (!strcmp(a, "--tokenize")) tokenize = 1;
        else if (!strcmp(a, "--logits")) want_logits = 1;
        else if (!strcmp(a, "--selfcheck")) return selfcheck();
        else if (!strcmp(a, "--portable")) dot_use_portable();
        else if (!strcmp(a, "--f32-kv")) f32_kv = 1;
        else if (a[0] != '-' && !model) model = a;
        else die("unknown or incomplete option %s%s (see the usage in kernels/host/slm-run.c)", a, "");
    }
    if (!model || (!prompt && !ppl))
        die("usage: slm-run MODEL.gguf --prompt TEXT [--n N] [--topk K --seed S] [--ids] [--tokenize] [--logits] [--f32-kv]%s%s\n"
            "       slm-run MODEL.gguf --ppl FILE.txt [--max-tokens N]", "", "");

    size_t len;
    unsigned char *buf = read_file(model, &len, 1);
    size_t need = slm_arena_bytes(buf, len);
    void *arena = malloc(need ? need : 1);
    char err[256];
    if (slm_load(buf, len, arena, need, err, sizeof err) != 0) die("%s: %s", model, err);
    if (getenv("SLM_INFO")) slm_info(print_line);
    if (f32_kv) { /* F32 caches beside the fp16 ones slm_load made, which then go unused */
        gguf_file gf;
        slm_config c;
        errbuf e = errbuf_init(err, sizeof err);
        if (gguf_open(&gf, buf, len, err, sizeof err) != 0 || model_read_config(&c, &gf, &e) != 0) die("%s: %s", model, err);
        size_t n_kv = (size_t)c.n_layers * c.ctx_len * c.n_kv_heads * c.head_dim;
        float *k = calloc(n_kv, sizeof(float)), *v = calloc(n_kv, sizeof(float));
        if (!k || !v) die("cannot allocate the F32 KV cache%s%s", "", "");
        model_set_f32_kv(k, v);
    }

    if (ppl) return run_ppl(ppl, max_tokens);

    if (tokenize) {
        int cap = (int)strlen(prompt) + 2, *ids = malloc((size_t)cap * sizeof(int));
        int k = slm_tokenize(prompt, strlen(prompt), slm_add_bos(), ids, cap);
        for (int i = 0; i < k; i++) printf(i ? " %d" : "%d", ids[i]);
        printf("\n");
        return 0;
    }

    if (want_logits) { /* what other runtimes (ONNX) are checked against */
        int cap = (int)strlen(prompt) + 2, *ids = malloc((size_t)cap * sizeof(int));
        int k = slm_tokenize(prompt, strlen(prompt), slm_add_bos(), ids, cap), vocab = slm_vocab_size();
        if (k < 0 || k > slm_context_length()) die("cannot tokenize the prompt into the context (%s)%s", prompt, "");
        for (int i = 0; i < k; i++) {
            const float *l = slm_eval(ids[i], i);
            for (int v = 0; v < vocab; v++) printf(v ? " %.9g" : "%.9g", l[v]);
            printf("\n");
        }
        return 0;
    }

    static generated g;
    slm_result res;
    double t0 = now_s(), c0 = cpu_s();
    if (slm_generate(prompt, (int)n, (int)topk, seed, on_token, &g, &res, err, sizeof err) != 0)
        die("%s%s", err, "");
    double dt = now_s() - t0, cpu = cpu_s() - c0;
    printf("\n");
    if (want_ids) {
        for (int i = 0; i < g.n; i++) printf(i ? " %d" : "%d", g.ids[i]);
        printf("\n");
    }
    /* cpu: this thread's CPU time over the same span; on a loaded machine wall time also
     * counts the time other processes had the core */
    fprintf(stderr, "slm-run: %d prompt + %d generated tokens in %.3f s (%.1f tok/s), cpu %.3f s%s\n", res.n_prompt,
            res.n_generated, dt, (res.n_prompt + res.n_generated) / dt, cpu, res.hit_eos ? ", stopped at EOS" : "");
    /* decode alone: the forward passes between the first generated token and the last
     * (one per token after the first), the prompt excluded */
    if (g.n > 1)
        fprintf(stderr, "slm-run: decode %d tokens in %.4f s (%.1f tok/s)\n", g.n - 1, g.t_last - g.t_first,
                (g.n - 1) / (g.t_last - g.t_first));
    return 0;
}
