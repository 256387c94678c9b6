/* tokenizer.h — GPT-2 byte-level BPE, read from the GGUF's tokenizer.ggml.* keys.
 *
 * encode: split the text like GPT-2's regex
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * (the same hand-written splitter llama.cpp uses), turn each piece into byte
 * tokens, then apply merges lowest rank first. Character classes are exact for
 * ASCII, Latin-1 and the common punctuation/symbol blocks; other non-ASCII
 * characters count as letters.
 * decode: map each character of a token back to its byte (GPT-2 bytes_to_unicode).
 */
#ifndef TOKENIZER_H
#define TOKENIZER_H

#include <stdint.h>
#include <stddef.h>
#include "gguf.h"
#include "arena.h"
#include "errbuf.h"

enum { TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_USER_DEFINED = 4, TOK_UNUSED = 5, TOK_BYTE = 6 };

typedef struct {
    uint32_t a, b;      /* the pair of token ids */
    uint32_t rank;      /* position in tokenizer.ggml.merges: lower merges first */
    uint32_t result;    /* id of the merged token */
} tok_merge;

typedef struct {
    int n_vocab;
    const char **text;  /* token strings, pointing into the GGUF (not NUL-terminated) */
    uint32_t *len;
    uint8_t *type;      /* TOK_* from tokenizer.ggml.token_type (NORMAL if absent) */
    uint32_t *slots;    /* hash table text -> id+1 (0 = empty), n_slots a power of two */
    uint32_t n_slots;
    tok_merge *merges;  /* hash table keyed by (a, b); rank UINT32_MAX = empty */
    uint32_t n_merge_slots;
    int byte_token[256]; /* id of the token for each raw byte */
    int bos, eos;       /* -1 when absent */
    int add_bos;        /* tokenizer.ggml.add_bos_token (llama.cpp's default for gpt2: false) */
} slm_tokenizer;

/* Bytes of arena tok_load needs for this file (0 if the tokenizer keys are missing). */
size_t tok_memory(const gguf_file *f);

/* Returns 0, or -1 with a message in e. */
int tok_load(slm_tokenizer *t, const gguf_file *f, slm_arena *a, errbuf *e);

/* Encodes text (not NUL-terminated) into out; needs max_out >= len + 1 (one token
 * per byte at worst, plus BOS). Returns the count, or -1 if out is too small. */
int tok_encode(const slm_tokenizer *t, const char *text, size_t len, int add_bos, int *out, int max_out);

/* Writes the bytes of token id into buf (at most t->len[id] bytes); returns the count.
 * Control and unused tokens decode to nothing, as in llama.cpp. */
size_t tok_decode(const slm_tokenizer *t, int id, char *buf);

#endif
