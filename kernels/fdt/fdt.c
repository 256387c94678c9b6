/* fdt.c — a read-only walker over the DTB structure block (devicetree spec v0.4 §5). */
#include "fdt.h"

#define FDT_MAGIC 0xd00dfeedu
enum { FDT_BEGIN_NODE = 1, FDT_END_NODE = 2, FDT_PROP = 3, FDT_NOP = 4, FDT_END = 9 };

static uint32_t be32(const void *p) {
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint64_t fdt_cells(const void *p, int cells) {
    const uint8_t *b = p;
    return cells == 2 ? (uint64_t)be32(b) << 32 | be32(b + 4) : be32(b);
}

int fdt_valid(const void *fdt) {
    return fdt && be32(fdt) == FDT_MAGIC;
}

uint32_t fdt_size(const void *fdt) {
    return be32((const uint8_t *)fdt + 4);
}

static const uint8_t *structs(const void *fdt) { return (const uint8_t *)fdt + be32((const uint8_t *)fdt + 8); }
static const char *strings(const void *fdt) { return (const char *)fdt + be32((const uint8_t *)fdt + 12); }

static uint32_t align4(uint32_t x) { return (x + 3) & ~3u; }

static uint32_t slen(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

static int streq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* "memory@40000000" matches "memory". */
static int name_matches(const char *node, const char *name) {
    while (*name && *node == *name) node++, name++;
    return *name == 0 && (*node == 0 || *node == '@');
}

/* A compatible property is a list of NUL-terminated strings. */
static int compat_has(const char *list, uint32_t len, const char *want) {
    for (uint32_t i = 0; i < len; i += slen(list + i) + 1)
        if (streq(list + i, want)) return 1;
    return 0;
}

const void *fdt_prop(const void *fdt, int node, const char *prop, uint32_t *len) {
    const uint8_t *s = structs(fdt);
    uint32_t off = (uint32_t)node;
    if (be32(s + off) != FDT_BEGIN_NODE) return 0;
    off += 4;
    off += align4(slen((const char *)s + off) + 1);
    for (;;) { /* properties come before any child node */
        uint32_t tag = be32(s + off);
        if (tag == FDT_NOP) { off += 4; continue; }
        if (tag != FDT_PROP) return 0;
        uint32_t plen = be32(s + off + 4), nameoff = be32(s + off + 8);
        if (streq(strings(fdt) + nameoff, prop)) {
            if (len) *len = plen;
            return s + off + 12;
        }
        off += 12 + align4(plen);
    }
}

int fdt_node(const void *fdt, const char *name, const char *compat) {
    if (!fdt_valid(fdt)) return -1;
    const uint8_t *s = structs(fdt);
    uint32_t end = be32((const uint8_t *)fdt + 36); /* size_dt_struct */
    for (uint32_t off = 0; off < end;) {
        uint32_t tag = be32(s + off);
        if (tag == FDT_END) break;
        if (tag == FDT_BEGIN_NODE) {
            const char *nname = (const char *)s + off + 4;
            if (name ? name_matches(nname, name) : 0) return (int)off;
            if (!name) {
                uint32_t len;
                const char *c = fdt_prop(fdt, (int)off, "compatible", &len);
                if (c && compat_has(c, len, compat)) return (int)off;
            }
            off += 4 + align4(slen(nname) + 1);
        } else if (tag == FDT_PROP) {
            off += 12 + align4(be32(s + off + 4));
        } else { /* END_NODE, NOP */
            off += 4;
        }
    }
    return -1;
}

int fdt_reg(const void *fdt, int node, uint64_t *base, uint64_t *size) {
    uint32_t len;
    const uint8_t *reg = node >= 0 ? fdt_prop(fdt, node, "reg", &len) : 0;
    if (!reg || len < 16) return 0;
    *base = fdt_cells(reg, 2);
    *size = fdt_cells(reg + 8, 2);
    return 1;
}
