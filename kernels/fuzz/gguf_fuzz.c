/* gguf_fuzz.c — libFuzzer harness for the GGUF reader and the model loader.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I kernels/inference \
 *     kernels/fuzz/gguf_fuzz.c kernels/inference/{gguf,model,tokenizer,slm,sample,slm_math,errbuf}.c \
 *     -o build/gguf_fuzz
 *   npx tsx kernels/fuzz/make-seeds.ts build/fuzz-corpus
 *   build/gguf_fuzz -max_total_time=180 -max_len=40000 build/fuzz-corpus
 *
 * Every input goes through gguf_open; valid ones are then walked completely (all
 * KVs, all array strings, all tensor data bytes) and loaded as a model with a
 * real arena, and a few tokens are generated — any out-of-bounds read in the
 * parser or the loaders is an ASan report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "slm.h"

static volatile uint64_t sink;

static void walk(const gguf_file *f) {
    for (uint64_t i = 0; i < f->n_kv; i++) {
        gguf_kv kv;
        gguf_kv_at(f, i, &kv);
        sink += kv.key.ptr[kv.key.len - 1];
        if (kv.type == GGUF_ARRAY && kv.arr_type == GGUF_STRING) {
            const uint8_t *p = kv.val;
            for (uint64_t k = 0; k < kv.arr_n; k++) {
                gguf_str s = gguf_arr_next_str(&p);
                if (s.len) sink += (uint8_t)s.ptr[s.len - 1];
            }
        }
    }
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor t;
        gguf_tensor_at(f, i, &t);
        if (t.nbytes) sink += ((const uint8_t *)t.data)[0] + ((const uint8_t *)t.data)[t.nbytes - 1];
    }
}

static int count_tokens(int id, const char *piece, size_t len, void *user) {
    (void)piece;
    *(int *)user += id + (int)len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The kernel hands the core an aligned buffer; do the same. */
    uint8_t *buf = aligned_alloc(64, (size + 63) / 64 * 64 + 64);
    memcpy(buf, data, size);
    gguf_file f;
    char err[256];
    if (gguf_open(&f, buf, size, err, sizeof err) == 0) {
        walk(&f);
        size_t need = slm_arena_bytes(buf, size);
        if (need && need < (64u << 20)) {
            void *arena = malloc(need);
            if (slm_load(buf, size, arena, need, err, sizeof err) == 0) {
                int sum = 0;
                slm_result r;
                slm_generate("PCI device 8086:10d3 is", 2, 0, 1, count_tokens, &sum, &r, err, sizeof err);
                sink += (uint64_t)sum;
            }
            free(arena);
        }
    } else if (!err[0]) {
        abort(); /* every refusal must say why */
    }
    free(buf);
    return 0;
}
