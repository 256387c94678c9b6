/* gguf.c — validating in-place GGUF reader (see gguf.h and ggml's docs/gguf.md).
 *
 * Layout: header (magic "GGUF", u32 version, u64 n_tensors, u64 n_kv), n_kv KV
 * pairs (string key, u32 type, value), n_tensors tensor infos (string name, u32
 * n_dims, u64 ne[n_dims], u32 type, u64 offset), padding to general.alignment,
 * then the tensor data. Strings are u64 length + bytes.
 *
 * Invariant kept by gguf_open(): every byte that the accessors below read lies
 * inside [buf, buf+len), so they skip values without bounds checks.
 */
#include "gguf.h"
#include "errbuf.h"
#include "klib.h"

uint16_t gguf_rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
uint32_t gguf_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
uint64_t gguf_rd64(const uint8_t *p) { return gguf_rd32(p) | (uint64_t)gguf_rd32(p + 4) << 32; }

/* Size in bytes of a scalar value; 0 for STRING/ARRAY/unknown. */
static uint64_t scalar_size(uint32_t t) {
    switch (t) {
    case GGUF_UINT8: case GGUF_INT8: case GGUF_BOOL: return 1;
    case GGUF_UINT16: case GGUF_INT16: return 2;
    case GGUF_UINT32: case GGUF_INT32: case GGUF_FLOAT32: return 4;
    case GGUF_UINT64: case GGUF_INT64: case GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* Elements per block and bytes per block of a ggml type; 0 when unknown. */
static void type_block(uint32_t t, uint64_t *blck, uint64_t *bytes) {
    static const struct { uint8_t type, blck_log2; uint16_t bytes; } tab[] = {
        {GGML_F32, 0, 4},    {GGML_F16, 0, 2},    {GGML_Q4_0, 5, 18},  {GGML_Q4_1, 5, 20},
        {GGML_Q5_0, 5, 22},  {GGML_Q5_1, 5, 24},  {GGML_Q8_0, 5, 34},  {GGML_Q8_1, 5, 36},
        {GGML_Q2_K, 8, 84},  {GGML_Q3_K, 8, 110}, {GGML_Q4_K, 8, 144}, {GGML_Q5_K, 8, 176},
        {GGML_Q6_K, 8, 210}, {GGML_Q8_K, 8, 292}, {GGML_I8, 0, 1},     {GGML_I16, 0, 2},
        {GGML_I32, 0, 4},    {GGML_I64, 0, 8},    {GGML_F64, 0, 8},    {GGML_BF16, 0, 2},
    };
    *blck = *bytes = 0;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].type == t) { *blck = 1ull << tab[i].blck_log2; *bytes = tab[i].bytes; }
}

const char *gguf_type_name(uint32_t t) {
    switch (t) {
    case GGML_F32: return "F32"; case GGML_F16: return "F16"; case GGML_Q4_0: return "Q4_0";
    case GGML_Q4_1: return "Q4_1"; case GGML_Q5_0: return "Q5_0"; case GGML_Q5_1: return "Q5_1";
    case GGML_Q8_0: return "Q8_0"; case GGML_Q8_1: return "Q8_1"; case GGML_Q2_K: return "Q2_K";
    case GGML_Q3_K: return "Q3_K"; case GGML_Q4_K: return "Q4_K"; case GGML_Q5_K: return "Q5_K";
    case GGML_Q6_K: return "Q6_K"; case GGML_Q8_K: return "Q8_K"; case GGML_I8: return "I8";
    case GGML_I16: return "I16"; case GGML_I32: return "I32"; case GGML_I64: return "I64";
    case GGML_F64: return "F64"; case GGML_BF16: return "BF16";
    default: return "unknown";
    }
}

int gguf_str_eq(gguf_str s, const char *z) {
    size_t n = strlen(z);
    return s.len == n && memcmp(s.ptr, z, n) == 0;
}

/* ---- validation: a bounds-checked cursor ---- */

typedef struct {
    const uint8_t *b;
    size_t len, pos;
    errbuf e;
    int failed;
} cursor;

static int fail(cursor *c, const char *what, const char *why) {
    if (!c->failed) {
        errbuf_s(&c->e, "gguf: ");
        errbuf_s(&c->e, what);
        errbuf_s(&c->e, " at byte ");
        errbuf_u(&c->e, c->pos);
        errbuf_s(&c->e, ": ");
        errbuf_s(&c->e, why);
    }
    c->failed = 1;
    return -1;
}

static int need(cursor *c, uint64_t n, const char *what) {
    if (n > c->len - c->pos) return fail(c, what, "runs past the end of the file (truncated?)");
    return 0;
}

static int take_u32(cursor *c, uint32_t *v, const char *what) {
    if (need(c, 4, what)) return -1;
    *v = gguf_rd32(c->b + c->pos);
    c->pos += 4;
    return 0;
}

static int take_u64(cursor *c, uint64_t *v, const char *what) {
    if (need(c, 8, what)) return -1;
    *v = gguf_rd64(c->b + c->pos);
    c->pos += 8;
    return 0;
}

static int take_str(cursor *c, gguf_str *s, const char *what) {
    uint64_t n;
    if (take_u64(c, &n, what) || need(c, n, what)) return -1;
    s->ptr = (const char *)c->b + c->pos;
    s->len = n;
    c->pos += (size_t)n;
    return 0;
}

/* 4096-bit Bloom-ish filter of names seen, so duplicate checks rescan rarely. */
static uint32_t name_hash(gguf_str s) {
    uint32_t h = 2166136261u;
    for (uint64_t i = 0; i < s.len; i++) h = (h ^ (uint8_t)s.ptr[i]) * 16777619u;
    return h;
}

static int seen_test_and_set(uint8_t *bits, gguf_str s) {
    uint32_t h = name_hash(s) & 4095;
    int was = (bits[h >> 3] >> (h & 7)) & 1;
    bits[h >> 3] |= (uint8_t)(1u << (h & 7));
    return was;
}

static int check_value(cursor *c, uint32_t type, int in_array) {
    uint64_t sz = scalar_size(type);
    if (sz) {
        if (need(c, sz, "KV value")) return -1;
        if (type == GGUF_BOOL && c->b[c->pos] > 1) return fail(c, "KV value", "bool is not 0 or 1");
        c->pos += sz;
        return 0;
    }
    if (type == GGUF_STRING) {
        gguf_str s;
        return take_str(c, &s, "string value");
    }
    if (type == GGUF_ARRAY && !in_array) {
        uint32_t at;
        uint64_t n;
        if (take_u32(c, &at, "array type") || take_u64(c, &n, "array length")) return -1;
        if (at >= GGUF_TYPE_COUNT || at == GGUF_ARRAY)
            return fail(c, "array type", "unknown or nested array element type");
        uint64_t esz = scalar_size(at);
        if (esz) { /* fixed-size elements: one bounds check */
            if (n > (c->len - c->pos) / esz) return fail(c, "array data", "runs past the end of the file");
            c->pos += (size_t)(n * esz);
            return 0;
        }
        for (uint64_t i = 0; i < n; i++) /* strings: each is at least 8 bytes, so n is bounded */
            if (check_value(c, at, 1)) return -1;
        return 0;
    }
    return fail(c, "KV type", "unknown value type (expected 0..12)");
}

/* Skip a value known to be valid. */
static const uint8_t *skip_value(const uint8_t *p, uint32_t type) {
    uint64_t sz = scalar_size(type);
    if (sz) return p + sz;
    if (type == GGUF_STRING) return p + 8 + gguf_rd64(p);
    uint32_t at = gguf_rd32(p);
    uint64_t n = gguf_rd64(p + 4);
    p += 12;
    if (scalar_size(at)) return p + n * scalar_size(at);
    for (uint64_t i = 0; i < n; i++) p = skip_value(p, at);
    return p;
}

/* Reads the KV at p into out, returns the pointer past it. */
static const uint8_t *read_kv(const uint8_t *p, gguf_kv *out) {
    out->key.len = gguf_rd64(p);
    out->key.ptr = (const char *)p + 8;
    p += 8 + out->key.len;
    out->type = gguf_rd32(p);
    p += 4;
    out->val = p;
    out->arr_type = 0;
    out->arr_n = 0;
    if (out->type == GGUF_ARRAY) {
        out->arr_type = gguf_rd32(p);
        out->arr_n = gguf_rd64(p + 4);
        out->val = p + 12;
    }
    return skip_value(p, out->type);
}

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

static const uint8_t *read_info(const gguf_file *f, const uint8_t *p, gguf_tensor *t) {
    t->name.len = gguf_rd64(p);
    t->name.ptr = (const char *)p + 8;
    p += 8 + t->name.len;
    t->n_dims = gguf_rd32(p);
    p += 4;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = d < t->n_dims ? gguf_rd64(p) : 1;
        if (d < t->n_dims) p += 8;
    }
    t->type = gguf_rd32(p);
    t->offset = gguf_rd64(p + 4);
    p += 12;
    uint64_t blck, bytes;
    type_block(t->type, &blck, &bytes);
    t->nbytes = t->ne[0] / blck * bytes * t->ne[1] * t->ne[2] * t->ne[3];
    t->data = f->buf + f->data_off + t->offset;
    return p;
}

static int check_tensor_info(cursor *c, gguf_str *name, uint64_t *nbytes, uint64_t *offset) {
    uint32_t n_dims, type;
    uint64_t ne[GGUF_MAX_DIMS] = {1, 1, 1, 1};
    if (take_str(c, name, "tensor name")) return -1;
    if (name->len == 0 || name->len >= 64) return fail(c, "tensor name", "empty or longer than 63 bytes");
    if (take_u32(c, &n_dims, "tensor n_dims")) return -1;
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS) return fail(c, "tensor n_dims", "must be 1..4");
    for (uint32_t d = 0; d < n_dims; d++) {
        if (take_u64(c, &ne[d], "tensor dims")) return -1;
        if (ne[d] == 0 || ne[d] > (1ull << 40)) return fail(c, "tensor dims", "dimension is 0 or absurdly large");
    }
    if (take_u32(c, &type, "tensor type") || take_u64(c, offset, "tensor offset")) return -1;
    uint64_t blck, bytes;
    type_block(type, &blck, &bytes);
    if (!blck) return fail(c, "tensor type", "unknown ggml type");
    if (ne[0] % blck) return fail(c, "tensor dims", "ne[0] is not a multiple of the type's block size");
    uint64_t n = ne[0] / blck * bytes; /* bytes per row, < 2^49 */
    for (uint32_t d = 1; d < GGUF_MAX_DIMS; d++) {
        if (ne[d] > (1ull << 62) / n) return fail(c, "tensor dims", "tensor size overflows");
        n *= ne[d];
    }
    *nbytes = n;
    return 0;
}

int gguf_open(gguf_file *f, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    cursor c = {buf, len, 0, errbuf_init(err, errlen), 0};
    uint8_t seen[512];
    memset(f, 0, sizeof *f);
    f->buf = buf;
    f->len = len;
    f->alignment = GGUF_DEFAULT_ALIGNMENT;

    if (!buf) return fail(&c, "header", "no buffer");
    if (need(&c, 4, "magic")) return -1;
    if (memcmp(buf, "GGUF", 4) != 0) return fail(&c, "magic", "not a GGUF file (expected \"GGUF\")");
    c.pos = 4;
    if (take_u32(&c, &f->version, "version")) return -1;
    if (f->version != 2 && f->version != 3) return fail(&c, "version", "unsupported GGUF version (need 2 or 3)");
    if (take_u64(&c, &f->n_tensors, "tensor count") || take_u64(&c, &f->n_kv, "KV count")) return -1;
    if (f->n_kv > GGUF_MAX_KV) return fail(&c, "KV count", "too many KV pairs (limit 4096)");
    if (f->n_tensors > GGUF_MAX_TENSORS) return fail(&c, "tensor count", "too many tensors (limit 65536)");

    /* KV pairs: types, lengths, unique keys, general.alignment. */
    f->kv_off = c.pos;
    memset(seen, 0, sizeof seen);
    for (uint64_t i = 0; i < f->n_kv; i++) {
        gguf_str key;
        uint32_t type;
        size_t key_pos = c.pos;
        if (take_str(&c, &key, "KV key")) return -1;
        if (key.len == 0 || key.len > 65535) return fail(&c, "KV key", "empty or longer than 65535 bytes");
        if (take_u32(&c, &type, "KV type")) return -1;
        size_t val_pos = c.pos;
        if (check_value(&c, type, 0)) return -1;
        if (seen_test_and_set(seen, key)) {
            const uint8_t *p = buf + f->kv_off;
            gguf_kv prev;
            while (p < buf + key_pos) {
                p = read_kv(p, &prev);
                if (prev.key.len == key.len && memcmp(prev.key.ptr, key.ptr, key.len) == 0) {
                    c.pos = key_pos;
                    return fail(&c, "KV key", "duplicate key");
                }
            }
        }
        if (key.len == 17 && memcmp(key.ptr, "general.alignment", 17) == 0) {
            c.pos = val_pos;
            if (type != GGUF_UINT32) return fail(&c, "general.alignment", "must be UINT32");
            uint32_t a = gguf_rd32(buf + val_pos);
            if (a == 0 || (a & (a - 1))) return fail(&c, "general.alignment", "must be a power of two");
            f->alignment = a;
            check_value(&c, type, 0);
        }
    }

    /* Tensor infos. */
    f->info_off = c.pos;
    memset(seen, 0, sizeof seen);
    uint64_t expect = 0; /* data is packed in info order, each tensor padded */
    size_t data_limit = 0;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_str name;
        uint64_t nbytes = 0, offset = 0;
        size_t info_pos = c.pos;
        if (check_tensor_info(&c, &name, &nbytes, &offset)) return -1;
        if (seen_test_and_set(seen, name)) {
            const uint8_t *p = buf + f->info_off;
            gguf_tensor prev;
            while (p < buf + info_pos) {
                p = read_info(f, p, &prev);
                if (prev.name.len == name.len && memcmp(prev.name.ptr, name.ptr, name.len) == 0) {
                    c.pos = info_pos;
                    return fail(&c, "tensor name", "duplicate tensor name");
                }
            }
        }
        if (offset != expect) {
            c.pos = info_pos;
            return fail(&c, "tensor offset", "not where the previous tensor's padded data ends");
        }
        if (nbytes > (1ull << 62) - expect) return fail(&c, "tensor size", "data section overflows");
        if (expect + nbytes > data_limit) data_limit = (size_t)(expect + nbytes);
        expect = align_up(expect + nbytes, f->alignment);
    }
    f->data_off = (size_t)align_up(c.pos, f->alignment);
    if (f->n_tensors && (f->data_off > len || data_limit > len - f->data_off)) {
        c.pos = len;
        return fail(&c, "tensor data", "file ends before the last tensor's data");
    }
    return 0;
}

/* ---- accessors (valid file) ---- */

void gguf_kv_at(const gguf_file *f, uint64_t i, gguf_kv *out) {
    const uint8_t *p = f->buf + f->kv_off;
    for (uint64_t k = 0; k <= i; k++) p = read_kv(p, out);
}

int gguf_find_kv(const gguf_file *f, const char *key, gguf_kv *out) {
    const uint8_t *p = f->buf + f->kv_off;
    for (uint64_t k = 0; k < f->n_kv; k++) {
        p = read_kv(p, out);
        if (gguf_str_eq(out->key, key)) return 1;
    }
    return 0;
}

void gguf_tensor_at(const gguf_file *f, uint64_t i, gguf_tensor *out) {
    const uint8_t *p = f->buf + f->info_off;
    for (uint64_t k = 0; k <= i; k++) p = read_info(f, p, out);
}

int gguf_find_tensor(const gguf_file *f, const char *name, gguf_tensor *out) {
    const uint8_t *p = f->buf + f->info_off;
    for (uint64_t k = 0; k < f->n_tensors; k++) {
        p = read_info(f, p, out);
        if (gguf_str_eq(out->name, name)) return 1;
    }
    return 0;
}

int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out) {
    gguf_kv kv;
    if (!gguf_find_kv(f, key, &kv)) return -1;
    if (kv.type != GGUF_UINT32 && kv.type != GGUF_INT32) return -2;
    *out = gguf_rd32(kv.val);
    return 0;
}

int gguf_get_f32(const gguf_file *f, const char *key, float *out) {
    gguf_kv kv;
    if (!gguf_find_kv(f, key, &kv)) return -1;
    if (kv.type != GGUF_FLOAT32) return -2;
    union { uint32_t u; float f; } b = {gguf_rd32(kv.val)};
    *out = b.f;
    return 0;
}

int gguf_get_bool(const gguf_file *f, const char *key, int *out) {
    gguf_kv kv;
    if (!gguf_find_kv(f, key, &kv)) return -1;
    if (kv.type != GGUF_BOOL) return -2;
    *out = kv.val[0] != 0;
    return 0;
}

int gguf_get_str(const gguf_file *f, const char *key, gguf_str *out) {
    gguf_kv kv;
    if (!gguf_find_kv(f, key, &kv)) return -1;
    if (kv.type != GGUF_STRING) return -2;
    out->len = gguf_rd64(kv.val);
    out->ptr = (const char *)kv.val + 8;
    return 0;
}

uint32_t gguf_arr_u32(const gguf_kv *kv, uint64_t i) { return gguf_rd32(kv->val + 4 * i); }

gguf_str gguf_arr_next_str(const uint8_t **p) {
    gguf_str s = {(const char *)*p + 8, gguf_rd64(*p)};
    *p += 8 + s.len;
    return s;
}
