/* kmodel.c — the embedded model, seen from the kernel (see kmodel.h).
 *
 * The GGUF stays where the linker put it (.slm_model, 32-byte aligned); only the
 * inference core's working memory (tokenizer tables, activations, KV cache) comes
 * from the page allocator, as one contiguous arena. */
#include "kmodel.h"
#include "klib.h"
#include "palloc.h"
#include "platform.h"
#include "printf.h"
#include "slm.h"

#define FALLBACK_ARENA (64u << 20) /* when the core cannot size a bad file: let it say why */

static int ready;

static size_t embedded_size(void) {
    return (size_t)((uintptr_t)slm_model_end - (uintptr_t)slm_model_start);
}

int kmodel_ready(void) { return ready; }

static void print_line(const char *line) { kprintf("%s\n", line); }

int kmodel_init(void) {
    size_t n = embedded_size();
    if (n == 0) {
        kprintf("SLM: no embedded model\n");
        return 0;
    }
    kprintf("SLM: Loading embedded model (%lu bytes)\n", (unsigned long)n);
    size_t need = slm_arena_bytes(slm_model_start, n);
    if (need == 0) { /* unloadable: give the loader room so its error names the problem */
        size_t run = palloc_largest_free_run() * PAGE_SIZE;
        need = run < FALLBACK_ARENA ? run : FALLBACK_ARENA;
    }
    size_t pages = (need + PAGE_SIZE - 1) / PAGE_SIZE;
    void *arena = palloc_alloc(pages);
    if (!arena) {
        kprintf("SLM: model rejected: it needs a %lu KiB arena but the largest free run is %lu KiB "
                "(give the machine more memory, e.g. QEMU -m 512M)\n",
                (unsigned long)(pages * PAGE_SIZE / 1024),
                (unsigned long)(palloc_largest_free_run() * PAGE_SIZE / 1024));
        return 0;
    }
    static char err[256];
    uint64_t t0 = plat_time_ns();
    if (slm_load(slm_model_start, n, arena, pages * PAGE_SIZE, err, sizeof err) != 0) {
        kprintf("SLM: model rejected: %s\n", err);
        palloc_free(arena, pages);
        return 0;
    }
    slm_info(print_line);
    kprintf("SLM: arena %lu KiB at %p, loaded in %lu ms\n", (unsigned long)(pages * PAGE_SIZE / 1024),
            arena, (unsigned long)((plat_time_ns() - t0) / 1000000));
    kprintf("SLM: Neural backend ready\n");
    ready = 1;
    return 1;
}

void kmodel_print_info(void) {
    if (!ready) {
        kprintf("error: no model loaded (see the SLM: lines of the boot log)\n");
        return;
    }
    kprintf("SLM: embedded GGUF %lu bytes at %p\n", (unsigned long)embedded_size(),
            (void *)slm_model_start);
    slm_info(print_line);
}

/* Collects the completion. Stops at a newline, or at a '.' followed by whitespace
 * (one token of lookahead, so "Co., Ltd." is not cut at "Co."). */
struct collect {
    char *out;
    size_t cap, len;
    int after_dot;
};

static int on_token(int id, const char *piece, size_t n, void *user) {
    struct collect *c = user;
    (void)id;
    if (c->after_dot && (n == 0 || piece[0] == ' ' || piece[0] == '\n')) return 1;
    for (size_t i = 0; i < n; i++) {
        if (piece[i] == '\n') return 1;
        if (c->len + 1 < c->cap) c->out[c->len++] = piece[i];
    }
    c->out[c->len] = '\0';
    c->after_dot = n > 0 && piece[n - 1] == '.';
    return 0;
}

int kmodel_complete(const char *prompt, int max_tokens, char *out, size_t outlen,
                    struct kmodel_stats *st) {
    struct collect c = {out, outlen, 0, 0};
    slm_result r;
    out[0] = '\0';
    uint64_t t0 = plat_time_ns();
    if (slm_generate(prompt, max_tokens, 0, 0, on_token, &c, &r, out, outlen) != 0) return -1;
    st->ns = plat_time_ns() - t0;
    st->tokens = r.n_generated;
    st->prompt_tokens = r.n_prompt;
    return 0;
}
