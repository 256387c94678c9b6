/* tokenizer.c — GPT-2 byte-level BPE (see tokenizer.h). */
#include "tokenizer.h"
#include "klib.h"

/* ---- GPT-2 bytes_to_unicode: printable bytes map to themselves, the other 68
 * bytes (controls, space, DEL, 0x80-0xA0, soft hyphen) to U+0100.. in order ---- */

static int byte_is_printable(int b) {
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
}

static uint32_t byte_to_cp(int b) {
    if (byte_is_printable(b)) return (uint32_t)b;
    int n = 0;
    for (int i = 0; i < b; i++) n += !byte_is_printable(i);
    return 256u + (uint32_t)n;
}

static int cp_to_byte(uint32_t cp) {
    if (cp < 256) return byte_is_printable((int)cp) ? (int)cp : -1;
    if (cp >= 256 + 68) return -1;
    int n = (int)cp - 256;
    for (int b = 0; b < 256; b++)
        if (!byte_is_printable(b) && n-- == 0) return b;
    return -1;
}

/* ---- UTF-8, with llama.cpp's leniency: a bad sequence becomes U+FFFD and
 * consumes one byte; overlong forms are accepted ---- */

static uint32_t utf8_next(const uint8_t *s, size_t len, size_t *i) {
    uint8_t c = s[*i];
    int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || *i + n > len) { (*i)++; return n == 1 ? c : 0xfffd; }
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1fu : n == 3 ? c & 0x0fu : c & 0x07u;
    for (int k = 1; k < n; k++) {
        if ((s[*i + k] & 0xc0) != 0x80) { (*i)++; return 0xfffd; }
        cp = cp << 6 | (s[*i + k] & 0x3fu);
    }
    *i += n;
    return cp;
}

static int utf8_put(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { out[0] = (uint8_t)(0xc0 | cp >> 6); out[1] = (uint8_t)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | cp >> 12); out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18 & 0x07)); out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)); out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* ---- character classes for the GPT-2 split ---- */

enum { C_NONE, C_LETTER, C_NUMBER, C_SPACE, C_OTHER }; /* C_NONE: past the end */

static int cp_class(uint32_t c) {
    if (c < 0x80) {
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return C_LETTER;
        if (c >= '0' && c <= '9') return C_NUMBER;
        if (c == ' ' || (c >= 0x09 && c <= 0x0d)) return C_SPACE;
        return C_OTHER;
    }
    if (c < 0x100) {
        if (c == 0x85 || c == 0xa0) return C_SPACE;
        if (c < 0xa0 || c == 0xd7 || c == 0xf7) return C_OTHER;
        if (c == 0xaa || c == 0xb5 || c == 0xba || c >= 0xc0) return C_LETTER;
        if (c == 0xb2 || c == 0xb3 || c == 0xb9 || (c >= 0xbc && c <= 0xbe)) return C_NUMBER;
        return C_OTHER;
    }
    if (c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
        c == 0x205f || c == 0x3000)
        return C_SPACE;
    if (c == 0x2070 || (c >= 0x2074 && c <= 0x2079) || (c >= 0x2080 && c <= 0x2089) ||
        (c >= 0x2150 && c <= 0x2189) || (c >= 0x2460 && c <= 0x249b) || (c >= 0xff10 && c <= 0xff19) ||
        (c >= 0x0660 && c <= 0x0669) || (c >= 0x0966 && c <= 0x096f))
        return C_NUMBER;
    if ((c >= 0x0300 && c <= 0x036f) || /* combining marks */
        (c >= 0x2000 && c <= 0x206f) || /* general punctuation */
        (c >= 0x207a && c <= 0x207e) || (c >= 0x208a && c <= 0x208e) ||
        (c >= 0x20a0 && c <= 0x20ff) || /* currency, combining marks for symbols */
        (c >= 0x2190 && c <= 0x245f) || /* arrows, math, technical, control pictures */
        (c >= 0x2500 && c <= 0x2bff) || /* box drawing, shapes, dingbats, arrows */
        (c >= 0x2e00 && c <= 0x2e7f) || (c >= 0x3001 && c <= 0x3003) || (c >= 0xfe00 && c <= 0xfe0f) ||
        (c >= 0xff01 && c <= 0xff0f) || c == 0xfffd || (c >= 0x1f000 && c <= 0x1faff) || c == 0x2122)
        return C_OTHER;
    return C_LETTER;
}

/* Class of the character at byte i, C_NONE at the end; *next = where it ends. */
static int class_at(const uint8_t *s, size_t len, size_t i, size_t *next) {
    if (i >= len) { *next = len; return C_NONE; }
    uint32_t cp = utf8_next(s, len, &i);
    *next = i;
    return cp_class(cp);
}

/* ---- hash tables ---- */

static uint32_t hash_bytes(uint32_t h, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* id of the token whose text is a+b (b may be empty), or -1. */
static int lookup2(const slm_tokenizer *t, const char *a, size_t na, const char *b, size_t nb) {
    uint32_t mask = t->n_slots - 1, h = hash_bytes(hash_bytes(2166136261u, a, na), b, nb) & mask;
    for (;; h = (h + 1) & mask) {
        uint32_t v = t->slots[h];
        if (!v) return -1;
        int id = (int)v - 1;
        if (t->len[id] == na + nb && memcmp(t->text[id], a, na) == 0 && memcmp(t->text[id] + na, b, nb) == 0)
            return id;
    }
}

static uint32_t pair_hash(uint32_t a, uint32_t b) { return (a * 2654435761u) ^ (b * 2246822519u + 0x9e3779b9u); }

static const tok_merge *find_merge(const slm_tokenizer *t, uint32_t a, uint32_t b) {
    if (!t->n_merge_slots) return NULL;
    uint32_t mask = t->n_merge_slots - 1;
    for (uint32_t h = pair_hash(a, b) & mask;; h = (h + 1) & mask) {
        const tok_merge *m = &t->merges[h];
        if (m->rank == UINT32_MAX) return NULL;
        if (m->a == a && m->b == b) return m;
    }
}

static uint32_t pow2_at_least(uint64_t n) {
    uint32_t p = 16;
    while (p < n) p <<= 1;
    return p;
}

/* ---- loading ---- */

size_t tok_memory(const gguf_file *f) {
    gguf_kv tokens, merges;
    if (!gguf_find_kv(f, "tokenizer.ggml.tokens", &tokens) || tokens.arr_n > (1u << 24)) return 0;
    uint64_t n = tokens.arr_n, nm = 0;
    if (gguf_find_kv(f, "tokenizer.ggml.merges", &merges) && merges.arr_n < (1u << 24)) nm = merges.arr_n;
    return arena_round(n * sizeof(char *)) + arena_round(n * 4) + arena_round(n) +
           arena_round(pow2_at_least(2 * n) * 4ull) + arena_round(pow2_at_least(2 * nm) * sizeof(tok_merge)) +
           4 * ARENA_ALIGN;
}

static int tok_fail(errbuf *e, const char *what) {
    errbuf_s(e, "tokenizer: ");
    errbuf_s(e, what);
    return -1;
}

int tok_load(slm_tokenizer *t, const gguf_file *f, slm_arena *a, errbuf *e) {
    gguf_kv tokens, types, merges;
    gguf_str model;
    memset(t, 0, sizeof *t);
    if (gguf_get_str(f, "tokenizer.ggml.model", &model) != 0)
        return tok_fail(e, "tokenizer.ggml.model (string) is missing");
    if (!gguf_str_eq(model, "gpt2")) return tok_fail(e, "tokenizer.ggml.model is not \"gpt2\" (only byte-level BPE is supported)");
    if (!gguf_find_kv(f, "tokenizer.ggml.tokens", &tokens) || tokens.type != GGUF_ARRAY || tokens.arr_type != GGUF_STRING)
        return tok_fail(e, "tokenizer.ggml.tokens (array of strings) is missing");
    if (tokens.arr_n == 0 || tokens.arr_n > (1u << 24)) return tok_fail(e, "tokenizer.ggml.tokens has 0 or more than 2^24 tokens");
    int n = t->n_vocab = (int)tokens.arr_n;

    t->text = arena_alloc(a, (size_t)n * sizeof(char *));
    t->len = arena_alloc(a, (size_t)n * 4);
    t->type = arena_alloc(a, (size_t)n);
    t->n_slots = pow2_at_least(2ull * (uint64_t)n);
    t->slots = arena_alloc(a, t->n_slots * 4ull);
    if (!t->text || !t->len || !t->type || !t->slots) return tok_fail(e, "arena too small for the vocabulary");
    memset(t->slots, 0, t->n_slots * 4ull);

    int have_types = gguf_find_kv(f, "tokenizer.ggml.token_type", &types) && types.type == GGUF_ARRAY &&
                     (types.arr_type == GGUF_INT32 || types.arr_type == GGUF_UINT32) && types.arr_n == tokens.arr_n;
    const uint8_t *p = tokens.val;
    for (int id = 0; id < n; id++) {
        gguf_str s = gguf_arr_next_str(&p);
        if (s.len > 1024) return tok_fail(e, "a token is longer than 1024 bytes");
        t->text[id] = s.ptr;
        t->len[id] = (uint32_t)s.len;
        uint32_t ty = have_types ? gguf_arr_u32(&types, (uint64_t)id) : TOK_NORMAL;
        t->type[id] = (uint8_t)(ty <= TOK_BYTE ? ty : TOK_NORMAL);
        /* insert; a repeated string maps to its last id, as in llama.cpp */
        uint32_t mask = t->n_slots - 1, h = hash_bytes(2166136261u, s.ptr, s.len) & mask;
        for (;; h = (h + 1) & mask) {
            uint32_t v = t->slots[h];
            if (!v || (t->len[v - 1] == s.len && memcmp(t->text[v - 1], s.ptr, s.len) == 0)) {
                t->slots[h] = (uint32_t)id + 1;
                break;
            }
        }
    }

    for (int b = 0; b < 256; b++) {
        uint8_t u[4];
        int k = utf8_put(byte_to_cp(b), u);
        t->byte_token[b] = lookup2(t, (const char *)u, (size_t)k, "", 0);
        if (t->byte_token[b] < 0) {
            errbuf_s(e, "tokenizer: no token for byte ");
            errbuf_u(e, (uint64_t)b);
            errbuf_s(e, "; byte-level BPE needs all 256 byte tokens");
            return -1;
        }
    }

    /* merges "A B": both halves and A+B must be tokens; others can never apply */
    if (gguf_find_kv(f, "tokenizer.ggml.merges", &merges)) {
        if (merges.type != GGUF_ARRAY || merges.arr_type != GGUF_STRING || merges.arr_n >= (1u << 24))
            return tok_fail(e, "tokenizer.ggml.merges is not an array of strings");
        t->n_merge_slots = pow2_at_least(2 * merges.arr_n);
        t->merges = arena_alloc(a, t->n_merge_slots * sizeof(tok_merge));
        if (!t->merges) return tok_fail(e, "arena too small for the merges");
        for (uint32_t i = 0; i < t->n_merge_slots; i++) t->merges[i].rank = UINT32_MAX;
        p = merges.val;
        for (uint32_t r = 0; r < merges.arr_n; r++) {
            gguf_str s = gguf_arr_next_str(&p);
            size_t sp = 1;
            while (sp < s.len && s.ptr[sp] != ' ') sp++;
            if (sp >= s.len) continue;
            int ia = lookup2(t, s.ptr, sp, "", 0), ib = lookup2(t, s.ptr + sp + 1, s.len - sp - 1, "", 0);
            int ir = lookup2(t, s.ptr, sp, s.ptr + sp + 1, s.len - sp - 1);
            if (ia < 0 || ib < 0 || ir < 0) continue;
            uint32_t mask = t->n_merge_slots - 1;
            for (uint32_t h = pair_hash((uint32_t)ia, (uint32_t)ib) & mask;; h = (h + 1) & mask) {
                tok_merge *m = &t->merges[h];
                if (m->rank == UINT32_MAX) { *m = (tok_merge){(uint32_t)ia, (uint32_t)ib, r, (uint32_t)ir}; break; }
                if (m->a == (uint32_t)ia && m->b == (uint32_t)ib) break; /* first (lowest) rank wins */
            }
        }
    }

    uint32_t v;
    t->bos = gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &v) == 0 && v < (uint32_t)n ? (int)v : -1;
    t->eos = gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &v) == 0 && v < (uint32_t)n ? (int)v : -1;
    if (gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &t->add_bos) != 0) t->add_bos = 0;
    return 0;
}

/* ---- encoding ---- */

/* BPE on one piece already written as byte tokens in ids[0..n): apply the
 * lowest-rank merge (leftmost on ties) until none applies. Returns the new n. */
static int bpe_merge(const slm_tokenizer *t, int *ids, int n) {
    for (;;) {
        const tok_merge *best = NULL;
        int at = -1;
        for (int i = 0; i + 1 < n; i++) {
            const tok_merge *m = find_merge(t, (uint32_t)ids[i], (uint32_t)ids[i + 1]);
            if (m && (!best || m->rank < best->rank)) { best = m; at = i; }
        }
        if (!best) return n;
        ids[at] = (int)best->result;
        for (int i = at + 1; i + 1 < n; i++) ids[i] = ids[i + 1];
        n--;
    }
}

/* Appends the byte tokens of text[a..b) (re-encoded as UTF-8, so invalid input
 * becomes U+FFFD like llama.cpp) to out, merges them, returns the new count. */
static int emit_piece(const slm_tokenizer *t, const uint8_t *s, size_t a, size_t b, int *out, int n, int max_out) {
    int start = n;
    for (size_t i = a; i < b;) {
        uint8_t u[4];
        int k = utf8_put(utf8_next(s, b, &i), u);
        if (n + k > max_out) return -1;
        for (int j = 0; j < k; j++) out[n++] = t->byte_token[u[j]];
    }
    return start + bpe_merge(t, out + start, n - start);
}

int tok_encode(const slm_tokenizer *t, const char *text, size_t len, int add_bos, int *out, int max_out) {
    const uint8_t *s = (const uint8_t *)text;
    int n = 0;
    if (add_bos && t->bos >= 0) {
        if (max_out < 1) return -1;
        out[n++] = t->bos;
    }
    size_t pos = 0;
    while (pos < len && n >= 0) {
        size_t next, after, end;
        uint32_t cp;
        {
            size_t i = pos;
            cp = utf8_next(s, len, &i);
            next = i;
        }
        /* 's 't 're 've 'm 'll 'd */
        if (cp == '\'' && pos + 1 < len) {
            uint8_t c1 = s[pos + 1], c2 = pos + 2 < len ? s[pos + 2] : 0;
            size_t k = (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') ? 2
                       : ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) ? 3 : 0;
            if (k) { n = emit_piece(t, s, pos, pos + k, out, n, max_out); pos += k; continue; }
        }
        /* ' ?' + letters / numbers / other: an ASCII space joins the run after it */
        int cls = cp == ' ' ? class_at(s, len, next, &after) : cp_class(cp);
        if (cls == C_LETTER || cls == C_NUMBER || cls == C_OTHER) {
            end = cp == ' ' ? next : pos;
            while (class_at(s, len, end, &after) == cls) end = after;
            n = emit_piece(t, s, pos, end, out, n, max_out);
            pos = end;
            continue;
        }
        /* whitespace: \s+(?!\S) leaves the last space to prefix the next word */
        size_t last = pos, count = 0;
        end = pos;
        while (class_at(s, len, end, &after) == C_SPACE) { last = end; end = after; count++; }
        if (count > 1 && end < len) end = last;
        else if (count == 0) end = next; /* cannot happen: every char has a class */
        n = emit_piece(t, s, pos, end, out, n, max_out);
        pos = end;
    }
    return n;
}

size_t tok_decode(const slm_tokenizer *t, int id, char *buf) {
    if (id < 0 || id >= t->n_vocab) return 0;
    const uint8_t *s = (const uint8_t *)t->text[id];
    size_t len = t->len[id], n = 0;
    if (t->type[id] == TOK_USER_DEFINED) {
        memcpy(buf, s, len);
        return len;
    }
    if (t->type[id] == TOK_CONTROL || t->type[id] == TOK_UNUSED) return 0;
    for (size_t i = 0; i < len;) {
        size_t at = i;
        uint32_t cp = utf8_next(s, len, &i);
        int b = cp_to_byte(cp);
        if (b >= 0) buf[n++] = (char)b;
        else for (size_t k = at; k < i; k++) buf[n++] = (char)s[k]; /* not a byte char: keep as is */
    }
    return n;
}
