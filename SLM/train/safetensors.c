#include "safetensors.h"
#include "json.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int st_save(const char *path, const StEntry *e, int n, const char **mk, const char **mv, int n_meta,
            char *err, size_t errlen) {
    size_t cap = 4096 + (size_t)n * 160;
    for (int i = 0; i < n_meta; i++) cap += 2 * strlen(mv[i]) + strlen(mk[i]) + 16;
    char *h = malloc(cap), *esc = malloc(cap);
    size_t len = 0, off = 0;
    len += snprintf(h + len, cap - len, "{\"__metadata__\":{");
    for (int i = 0; i < n_meta; i++) {
        json_escape(mv[i], esc, cap);
        len += snprintf(h + len, cap - len, "%s\"%s\":\"%s\"", i ? "," : "", mk[i], esc);
    }
    len += snprintf(h + len, cap - len, "}");
    for (int i = 0; i < n; i++) {
        size_t count = (size_t)e[i].shape[0] * (e[i].ndim == 2 ? e[i].shape[1] : 1);
        if (e[i].ndim == 2)
            len += snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}",
                            e[i].name, e[i].shape[0], e[i].shape[1], off, off + count * 4);
        else
            len += snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}",
                            e[i].name, e[i].shape[0], off, off + count * 4);
        off += count * 4;
    }
    len += snprintf(h + len, cap - len, "}");
    while (len % 8) h[len++] = ' ';   // data starts 8-byte aligned
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) { snprintf(err, errlen, "cannot write %s", tmp); free(h); free(esc); return -1; }
    uint64_t hl = len;   // little-endian hosts only (x86_64, aarch64, riscv64)
    int ok = fwrite(&hl, 8, 1, fp) == 1 && fwrite(h, 1, len, fp) == len;
    for (int i = 0; i < n && ok; i++) {
        size_t count = (size_t)e[i].shape[0] * (e[i].ndim == 2 ? e[i].shape[1] : 1);
        ok = fwrite(e[i].data, 4, count, fp) == count;
    }
    ok = (fclose(fp) == 0) && ok;
    free(h); free(esc);
    if (!ok || rename(tmp, path)) { snprintf(err, errlen, "writing %s failed (disk full?)", path); return -1; }
    return 0;
}

int st_open(StFile *f, const char *path, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) { snprintf(err, errlen, "cannot open checkpoint %s", path); return -1; }
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->buf = malloc(sz > 0 ? sz : 1);
    f->size = sz;
    if (sz < 8 || fread(f->buf, 1, sz, fp) != (size_t)sz) {
        fclose(fp); snprintf(err, errlen, "%s: truncated file", path); return -1;
    }
    fclose(fp);
    uint64_t hl;
    memcpy(&hl, f->buf, 8);
    if (hl > (uint64_t)sz - 8) { snprintf(err, errlen, "%s: not a safetensors file (header length %llu)", path, (unsigned long long)hl); return -1; }
    f->header = malloc(hl + 1);
    memcpy(f->header, f->buf + 8, hl);
    f->header[hl] = 0;
    f->data_start = 8 + hl;
    return 0;
}

void st_close(StFile *f) { free(f->buf); free(f->header); memset(f, 0, sizeof *f); }

int st_read(StFile *f, const char *name, float *out, size_t n, char *err, size_t errlen) {
    const char *v = json_find(f->header, name);
    if (!v || *v != '{') { snprintf(err, errlen, "checkpoint has no tensor %s", name); return -1; }
    const char *end = strchr(v, '}');
    const char *dt = json_find(v, "dtype"), *offs = json_find(v, "data_offsets");
    if (!dt || dt > end || strncmp(dt, "\"F32\"", 5)) { snprintf(err, errlen, "tensor %s: dtype must be F32", name); return -1; }
    unsigned long long a, b;
    if (!offs || offs > end || sscanf(offs, "[ %llu , %llu ]", &a, &b) != 2) { snprintf(err, errlen, "tensor %s: bad data_offsets", name); return -1; }
    if (b - a != n * 4 || f->data_start + b > f->size) {
        snprintf(err, errlen, "tensor %s: has %llu floats, the config needs %zu", name, (b - a) / 4, n);
        return -1;
    }
    memcpy(out, f->buf + f->data_start + a, n * 4);
    return 0;
}

long st_meta(StFile *f, const char *key, char *out, size_t cap) {
    const char *md = json_find(f->header, "__metadata__");
    if (!md) return -1;
    const char *v = json_find(md, key);
    return v ? json_string(v, out, cap) : -1;
}
