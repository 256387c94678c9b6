// Reading and writing safetensors files of F32 tensors (https://huggingface.co/docs/safetensors):
// u64 little-endian header length, JSON header, then the raw data.
#pragma once
#include <stddef.h>

typedef struct {
    const char *name;
    int ndim, shape[2];
    const float *data;
} StEntry;

// Writes path atomically (path.tmp, then rename). meta_keys/meta_vals: __metadata__ strings.
int st_save(const char *path, const StEntry *entries, int n, const char **meta_keys,
            const char **meta_vals, int n_meta, char *err, size_t errlen);

typedef struct {
    char *buf;          // whole file
    size_t size;
    char *header;       // NUL-terminated copy of the JSON header
    size_t data_start;
} StFile;

int st_open(StFile *f, const char *path, char *err, size_t errlen);
void st_close(StFile *f);
// Copies tensor `name` into out after checking it is F32 with n floats.
int st_read(StFile *f, const char *name, float *out, size_t n, char *err, size_t errlen);
// Copies __metadata__[key] (unescaped) into out; returns length or -1 if absent.
long st_meta(StFile *f, const char *key, char *out, size_t cap);
