/* slm.h — the inference core's public API: what the kernel shell and the host
 * tool `slm-run` call. One model per program (kept in slm.c).
 *
 *   size_t need = slm_arena_bytes(buf, len);          // KV cache, activations, tables
 *   if (slm_load(buf, len, arena, need, err, sizeof err) != 0) print(err);
 *   slm_info(print_line);
 *   slm_generate("PCI device 8086:10d3 is", 32, 0, 0, on_token, user, &res);
 *
 * buf is the GGUF file, used in place (weights are not copied), and must stay
 * valid and unchanged while the model is in use; 32-byte alignment is best.
 */
#ifndef SLM_H
#define SLM_H

#include <stdint.h>
#include <stddef.h>

/* Receives one metadata line (no trailing newline). */
typedef void (*slm_print_fn)(const char *line);

/* Receives each generated token: its id and its bytes (not NUL-terminated; may be
 * part of a UTF-8 character). Return nonzero to stop generating. */
typedef int (*slm_token_fn)(int id, const char *piece, size_t len, void *user);

typedef struct {
    int n_prompt;     /* prompt tokens fed (including BOS if added) */
    int n_generated;  /* tokens produced (including a final EOS) */
    int hit_eos;      /* generation stopped at the end-of-text token */
    int hit_ctx;      /* generation stopped because the context is full */
} slm_result;

/* Arena bytes slm_load needs for this file; 0 if the file cannot be loaded. */
size_t slm_arena_bytes(const uint8_t *buf, size_t len);

/* Validates and loads the GGUF; returns 0, or -1 with a message in err. */
int slm_load(const uint8_t *buf, size_t len, void *arena, size_t arena_len, char *err, size_t errlen);

/* Prints a few lines describing the loaded model ("SLM: ..."). */
void slm_info(slm_print_fn print);

/* Tokenizes prompt, runs it, then generates up to max_tokens tokens: greedy when
 * topk <= 1, else top-k sampling seeded by seed. Stops early at EOS or a full
 * context. Returns 0, or -1 with a message in err (no model, prompt too long). */
int slm_generate(const char *prompt, int max_tokens, int topk, uint64_t seed, slm_token_fn cb, void *user,
                 slm_result *res, char *err, size_t errlen);

/* Lower-level access for evaluation tools (perplexity, tokenizer checks). */
int slm_tokenize(const char *text, size_t len, int add_bos, int *out, int max_out);
size_t slm_token_bytes(int id, char *buf, size_t cap); /* cap >= 1024 always suffices */
const float *slm_eval(int token, int pos); /* logits; pos must go 0,1,2,... */
int slm_vocab_size(void);
int slm_context_length(void);
int slm_bos(void); /* -1 if none */
int slm_eos(void);
int slm_add_bos(void); /* does the model want BOS before a prompt? */

#endif
