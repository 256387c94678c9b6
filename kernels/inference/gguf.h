/* gguf.h — a GGUF (v2/v3) reader that works in place on a byte buffer.
 *
 * gguf_open() validates the whole file once: magic, version, counts, every
 * string length, every KV type, each tensor's dims/type/offset against the
 * buffer, and the alignment/ordering of the data section. After that the
 * lookups below cannot read out of bounds, so they return plain values. Nothing
 * is copied: strings and tensor data point into the caller's buffer, which must
 * outlive the gguf_file. All multi-byte fields are read byte by byte
 * (little-endian), so the buffer needs no particular alignment.
 */
#ifndef GGUF_H
#define GGUF_H

#include <stdint.h>
#include <stddef.h>

enum gguf_type {
    GGUF_UINT8 = 0, GGUF_INT8 = 1, GGUF_UINT16 = 2, GGUF_INT16 = 3, GGUF_UINT32 = 4,
    GGUF_INT32 = 5, GGUF_FLOAT32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9,
    GGUF_UINT64 = 10, GGUF_INT64 = 11, GGUF_FLOAT64 = 12, GGUF_TYPE_COUNT = 13
};

/* ggml tensor types we can size (and, in model.c, some we can compute with). */
enum ggml_type {
    GGML_F32 = 0, GGML_F16 = 1, GGML_Q4_0 = 2, GGML_Q4_1 = 3, GGML_Q5_0 = 6, GGML_Q5_1 = 7,
    GGML_Q8_0 = 8, GGML_Q8_1 = 9, GGML_Q2_K = 10, GGML_Q3_K = 11, GGML_Q4_K = 12,
    GGML_Q5_K = 13, GGML_Q6_K = 14, GGML_Q8_K = 15, GGML_I8 = 24, GGML_I16 = 25,
    GGML_I32 = 26, GGML_I64 = 27, GGML_F64 = 28, GGML_BF16 = 30
};

#define GGUF_MAX_DIMS 4
#define GGUF_MAX_KV 4096
#define GGUF_MAX_TENSORS 65536
#define GGUF_DEFAULT_ALIGNMENT 32

typedef struct {
    const char *ptr; /* not NUL-terminated */
    uint64_t len;
} gguf_str;

typedef struct {
    const uint8_t *buf;
    size_t len;
    uint32_t version;
    uint64_t n_tensors, n_kv;
    size_t kv_off;    /* first KV pair */
    size_t info_off;  /* first tensor info */
    size_t data_off;  /* start of the (aligned) tensor data section */
    uint32_t alignment;
} gguf_file;

typedef struct {
    gguf_str key;
    uint32_t type;     /* enum gguf_type */
    uint32_t arr_type; /* element type when type == GGUF_ARRAY */
    uint64_t arr_n;    /* element count when type == GGUF_ARRAY */
    const uint8_t *val; /* the value (for arrays: the first element) */
} gguf_kv;

typedef struct {
    gguf_str name;
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the contiguous dimension; unused dims are 1 */
    uint32_t type;              /* enum ggml_type */
    uint64_t offset;            /* relative to data_off */
    uint64_t nbytes;
    const void *data;
} gguf_tensor;

/* Returns 0, or -1 with a message in err ("gguf: <what> at byte <n>: <why>"). */
int gguf_open(gguf_file *f, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Lookups by position or name; the "find" ones return 1 when found. */
void gguf_kv_at(const gguf_file *f, uint64_t i, gguf_kv *out);
int gguf_find_kv(const gguf_file *f, const char *key, gguf_kv *out);
void gguf_tensor_at(const gguf_file *f, uint64_t i, gguf_tensor *out);
int gguf_find_tensor(const gguf_file *f, const char *name, gguf_tensor *out);

/* Typed getters for scalar KVs: 0 = ok, -1 = missing, -2 = wrong type. */
int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out);
int gguf_get_f32(const gguf_file *f, const char *key, float *out);
int gguf_get_bool(const gguf_file *f, const char *key, int *out);
int gguf_get_str(const gguf_file *f, const char *key, gguf_str *out);

/* Array elements (the KV must be an array of that element type). */
uint32_t gguf_arr_u32(const gguf_kv *kv, uint64_t i); /* UINT32/INT32 arrays */
/* Walk a string array: start with *p = kv->val, each call returns the next string. */
gguf_str gguf_arr_next_str(const uint8_t **p);

/* Little-endian readers, shared with the model loader. */
uint16_t gguf_rd16(const uint8_t *p);
uint32_t gguf_rd32(const uint8_t *p);
uint64_t gguf_rd64(const uint8_t *p);

const char *gguf_type_name(uint32_t ggml_type);
int gguf_str_eq(gguf_str s, const char *z);

#endif
